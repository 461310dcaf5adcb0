#!/usr/bin/env bash
# Always-run cleanup: remove the private directory the secrets step created, and nothing else.
set -euo pipefail

dir="${WORKDIR:-}"
if [ -z "${dir}" ]; then
    exit 0
fi
case "${dir}" in
    "${RUNNER_TEMP:?}"/timesys-ci.*)
        rm -rf -- "${dir}"
        ;;
    *)
        echo "::warning::timesys-ci cleanup: refusing to remove unexpected path ${dir}"
        ;;
esac
