#!/usr/bin/env bash
# Install timesys-ci from this action's own checkout (the repository root is one level up).
set -euo pipefail

python="${TIMESYS_CI_PYTHON:-python3}"
target="${ACTION_PATH:-${GITHUB_ACTION_PATH:?}}/.."

case "${INPUT_LOCAL:-false}" in
    true|TRUE|True) target="${target}[service]" ;;  # the embedded local service needs werkzeug + waitress
    false|FALSE|False|"") ;;
    *)
        echo "::error::input 'local' must be true or false"
        exit 2
        ;;
esac

"$python" -m pip install --disable-pip-version-check --quiet "$target"
