#!/usr/bin/env bash
# Install timesys-ci from this action's own checkout (the repository root is one level up).
#
# TIMESYS_CI_SKIP_INSTALL=1 (job env) skips pip when the interpreter can already import
# timesys-ci (and, with local: true, its service extra): self-hosted runners with the
# package preinstalled, offline runners, and the repository's own tests. If the import
# fails, the step fails instead of silently using whatever is (not) there.
set -euo pipefail

python="${TIMESYS_CI_PYTHON:-python3}"
target="${ACTION_PATH:-${GITHUB_ACTION_PATH:?}}/.."
probe="import timesys_ci"

case "${INPUT_LOCAL:-false}" in
    true|TRUE|True)
        target="${target}[service]"  # the embedded local service needs werkzeug + waitress
        probe="${probe}, timesys_ci.service.server"
        ;;
    false|FALSE|False|"") ;;
    *)
        echo "::error::input 'local' must be true or false"
        exit 2
        ;;
esac

case "${TIMESYS_CI_SKIP_INSTALL:-}" in
    1|true|TRUE|True)
        if ! "$python" -c "$probe" 2>/dev/null; then
            echo "::error::TIMESYS_CI_SKIP_INSTALL is set but '$python' cannot run: $probe"
            exit 2
        fi
        echo "timesys-ci: TIMESYS_CI_SKIP_INSTALL is set; using the timesys-ci that '$python' already imports"
        exit 0
        ;;
    0|false|FALSE|False|"") ;;
    *)
        echo "::error::TIMESYS_CI_SKIP_INSTALL must be 1/true or 0/false"
        exit 2
        ;;
esac

"$python" -m pip install --disable-pip-version-check --quiet "$target"
