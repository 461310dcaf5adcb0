#!/bin/sh
# timesys-ci post-image script for Buildroot (BR2_ROOTFS_POST_IMAGE_SCRIPT).
#
# Buildroot exports BR2_CONFIG, BASE_DIR, BUILD_DIR, BINARIES_DIR, TARGET_DIR and
# HOST_DIR; discovery reads those, so the positional arguments (BINARIES_DIR and
# BR2_ROOTFS_POST_SCRIPT_ARGS, shared with every other post-image script) are
# deliberately not forwarded.
#
# Exit status: that of `python3 -m timesys_ci buildroot` (0 pass, 1 gate failed,
# 2 config error, 3 service error), or 0 with a warning when
# TIMESYS_CI_ON_FAILURE=warn.
set -eu

python="${TIMESYS_CI_PYTHON:-python3}"
on_failure="${TIMESYS_CI_ON_FAILURE:-fail}"

case "$on_failure" in
    fail|warn) ;;
    *)
        echo "timesys-ci: TIMESYS_CI_ON_FAILURE must be 'fail' or 'warn', got '$on_failure'" >&2
        exit 2
        ;;
esac

status=0
"$python" -m timesys_ci buildroot --on-failure "$on_failure" || status=$?

if [ "$status" -ne 0 ]; then
    if [ "$on_failure" = "warn" ]; then
        # Reached only when the checker itself could not run (e.g. python3 or timesys_ci missing).
        echo "timesys-ci: WARNING: Vigiles check did not pass (exit $status); continuing (TIMESYS_CI_ON_FAILURE=warn)" >&2
        exit 0
    fi
    echo "timesys-ci: Vigiles check failed (exit $status)" >&2
fi
exit "$status"
