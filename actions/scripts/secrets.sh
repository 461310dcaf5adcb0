#!/usr/bin/env bash
# Write the key / dashboard-config inputs to 0600 files in a private directory under
# RUNNER_TEMP, mask the values derived from the key, and hand the paths on as step outputs.
# Nothing here echoes a secret: only file paths reach GITHUB_OUTPUT.
set -euo pipefail
umask 077

python="${TIMESYS_CI_PYTHON:-python3}"
action_path="${ACTION_PATH:-${GITHUB_ACTION_PATH:?}}"
workdir="$(mktemp -d "${RUNNER_TEMP:?}/timesys-ci.XXXXXXXX")"
echo "workdir=${workdir}" >> "${GITHUB_OUTPUT:?}"

key_file=""
if [ -n "${INPUT_KEY:-}" ]; then
    key_file="${workdir}/linuxlink_key.json"
    printf '%s' "${INPUT_KEY}" > "${key_file}"
    chmod 600 "${key_file}"
elif [ -n "${INPUT_KEY_FILE:-}" ]; then
    key_file="${INPUT_KEY_FILE}"
    if [ ! -f "${key_file}" ]; then
        echo "::error::key-file: file not found: ${key_file}"
        exit 2
    fi
fi
if [ -n "${key_file}" ]; then
    "${python}" "${action_path}/scripts/mask_key.py" "${key_file}"
    echo "key-file=${key_file}" >> "${GITHUB_OUTPUT}"
fi

config="${INPUT_DASHBOARD_CONFIG:-}"
if [ -n "${config}" ]; then
    trimmed="${config#"${config%%[![:space:]]*}"}"
    if [ "${trimmed:0:1}" = "{" ]; then
        config_file="${workdir}/dashboard_config.json"
        printf '%s' "${config}" > "${config_file}"
        chmod 600 "${config_file}"
    else
        config_file="${config}"
        if [ ! -f "${config_file}" ]; then
            echo "::error::dashboard-config: not JSON content and no such file: ${config_file}"
            exit 2
        fi
    fi
    echo "dashboard-config-file=${config_file}" >> "${GITHUB_OUTPUT}"
fi
