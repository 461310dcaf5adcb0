"""The one settings → `upload` arguments mapping (timesys_ci.job.arguments), checked against the real parser."""
from __future__ import annotations

from dataclasses import fields

from timesys_ci.cli.parser import build_parser
from timesys_ci.job.arguments import UploadRequest, upload_argv

EVERY_OPTION = UploadRequest(
    "m.json", kernel_config="k.config", uboot_config="u.config", manifest_name="img", subfolder_name="nightly",
    upload_only=True, fail_on="high", policy="policy.toml", baseline="RPT0", wait_timeout="30", sarif="v.sarif",
    json="v.json", junit="v.xml", markdown="v.md", new_only=True, filter_results=True, on_service_error="warn",
    local=True, summary=False, annotations=False, kernel_build_dir="kb", kernel_source_dir="ks",
    kernel_evidence_optional=True, apply_triage=True)


def parsed(options: UploadRequest):
    return build_parser().parse_args(["upload", *upload_argv(options)])


def test_unset_options_give_no_flags() -> None:
    assert upload_argv(UploadRequest("m.json")) == ["m.json"]
    assert upload_argv(UploadRequest("m.json", new_only=False, policy="")) == ["m.json", "--no-new-only"]


def test_every_option_reaches_the_upload_parser() -> None:
    args = vars(parsed(EVERY_OPTION))
    expected = {"arg_manifest": "m.json", "arg_kernel_config": "k.config", "arg_uboot_config": "u.config",
                "arg_manifest_name": "img", "arg_subfolder_name": "nightly", "arg_upload_only": True,
                "arg_filter_results": True, "fail_on": "high", "policy": "policy.toml", "baseline": "RPT0",
                "wait_timeout": 30.0, "sarif": "v.sarif", "json_file": "v.json", "junit": "v.xml",
                "markdown": "v.md", "new_only": True, "on_service_error": "warn", "local": True,
                "step_summary": False, "annotations": False, "kernel_build_dir": "kb", "kernel_source_dir": "ks",
                "kernel_evidence_optional": True, "apply_triage": True}
    assert {name: str(args[name]) for name in expected} == {name: str(value) for name, value in expected.items()}
    assert vars(parsed(UploadRequest("m.json", new_only=False)))["new_only"] is False


def test_each_field_changes_the_arguments() -> None:
    """No field is silently dropped: unsetting any one of them changes the argument list."""
    full = upload_argv(EVERY_OPTION)
    for field in fields(UploadRequest):
        if field.name == "manifest":
            continue
        default = field.default
        changed = UploadRequest(**{**EVERY_OPTION.__dict__, field.name: default})
        assert upload_argv(changed) != full, field.name
