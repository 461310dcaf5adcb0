# timesys-ci.bbclass: upload the image's Vigiles manifest (or SPDX) and gate the build.
#
#   INHERIT += "timesys-ci"           (in local.conf, next to INHERIT += "vigiles")
#   TIMESYS_CI_ON_FAILURE = "warn"    (default "fail": bb.fatal when the gate fails)
#
# All logic lives in `python3 -m timesys_ci yocto`; this class only passes the
# bitbake variables in as environment and maps the exit status. Only file paths
# are passed (VIGILES_KEY_FILE), never key contents.

TIMESYS_CI_ON_FAILURE ?= "fail"
TIMESYS_CI_PYTHON ?= "python3"
TIMESYS_CI_EXPORT_VARS ?= "\
    VIGILES_DIR VIGILES_KEY_FILE VIGILES_DASHBOARD_CONFIG VIGILES_SUBFOLDER_NAME \
    VIGILES_MANIFEST_NAME VIGILES_UPLOAD_ONLY VIGILES_KERNEL_CONFIG VIGILES_UBOOT_CONFIG \
    VIGILES_URL VIGILES_GROUP_TOKEN VIGILES_FOLDER_TOKEN DEPLOY_DIR_IMAGE \
    TIMESYS_CI_FAIL_ON TIMESYS_CI_POLICY TIMESYS_CI_NEW_ONLY TIMESYS_CI_BASELINE \
    TIMESYS_CI_WAIT_TIMEOUT TIMESYS_CI_SARIF TIMESYS_CI_JSON TIMESYS_CI_JUNIT \
    TIMESYS_CI_MARKDOWN TIMESYS_CI_ON_SERVICE_ERROR TIMESYS_CI_FILTER_RESULTS TIMESYS_CI_LOCAL \
    TIMESYS_CI_KERNEL_BUILD_DIR TIMESYS_CI_KERNEL_SOURCE_DIR STAGING_KERNEL_DIR STAGING_KERNEL_BUILDDIR \
    TIMESYS_CI_KERNEL_CONFIG TIMESYS_CI_KERNEL_TRIAGE TIMESYS_CI_APPLY_TRIAGE \
"

def timesys_ci_command(d):
    return [d.getVar('TIMESYS_CI_PYTHON'), '-m', 'timesys_ci', 'yocto',
            '--build-dir', d.getVar('TOPDIR'), '--image', d.getVar('IMAGE_BASENAME'),
            '--machine', d.getVar('MACHINE'), '--tmpdir', d.getVar('TMPDIR'),
            '--on-failure', d.getVar('TIMESYS_CI_ON_FAILURE')]

def timesys_ci_env(d, base):
    env = dict(base)
    for name in (d.getVar('TIMESYS_CI_EXPORT_VARS') or '').split():
        value = d.getVar(name)
        if value is not None:
            env[name] = value
    return env

python do_timesys_ci_check() {
    import subprocess
    on_failure = d.getVar('TIMESYS_CI_ON_FAILURE')
    if on_failure not in ('fail', 'warn'):
        bb.fatal("TIMESYS_CI_ON_FAILURE must be 'fail' or 'warn', not '%s'" % on_failure)
    result = subprocess.run(timesys_ci_command(d), env=timesys_ci_env(d, os.environ),
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, universal_newlines=True)
    if result.stdout:
        bb.plain(result.stdout.rstrip())
    if result.returncode != 0:
        message = "timesys-ci check failed for %s (exit %d)" % (d.getVar('IMAGE_BASENAME'), result.returncode)
        if on_failure == 'warn':
            bb.warn(message)
        else:
            bb.fatal(message)
}

# Only images get the check: with INHERIT += "timesys-ci" every recipe inherits this class, and a
# recipe that is no image has no manifest to upload. It runs after meta-timesys writes the manifest,
# or after create-spdx when meta-timesys is absent (dependencies on tasks a build lacks are ignored).
# One inherits_class() test at parse time; without it a global INHERIT would add the task to every recipe.
# nooelint: oelint.task.noanonpython
python __anonymous() {
    if bb.data.inherits_class('image', d):
        bb.build.addtask('do_timesys_ci_check', 'do_build',
                         'do_vigiles_image do_image_complete do_create_image_sbom do_create_image_sbom_spdx', d)
    elif 'timesys-ci' not in (d.getVar('INHERIT') or '').split():
        bb.warn("timesys-ci: %s is not an image; the check runs for images only" % d.getVar('PN'))
}
do_timesys_ci_check[doc] = "Uploads the image's Vigiles manifest (or SPDX), gets the report and applies the gate"
do_timesys_ci_check[nostamp] = "1"
# The task exists to talk to the Vigiles service.
# nooelint: oelint.task.network
do_timesys_ci_check[network] = "1"
do_timesys_ci_check[vardepsexclude] += "TIMESYS_CI_EXPORT_VARS VIGILES_KEY_FILE VIGILES_DASHBOARD_CONFIG"
