from __future__ import annotations

from datetime import date, timedelta

import pytest

from .gate_helpers import FIXTURES, TODAY, finding
from timesys_ci.gate.evaluate import NEVER_FAIL_STATUSES, baseline_new_ids, evaluate, gate_score
from timesys_ci.gate.policy import GatePolicy, PolicyError, Waiver
from timesys_ci.report import load_report


def outcome(f, policy=None, **kwargs):
    result = evaluate([f], policy or GatePolicy(), today=TODAY, **kwargs)
    return result.verdicts[0]


@pytest.mark.parametrize(
    "score, fail_on, fails",
    [(9.8, "critical", True), (8.9, "critical", False), (7.0, "high", True), (6.9, "high", False),
     (4.0, "medium", True), (0.1, "low", True), (0.0, "low", False), (10.0, "none", False)],
)
def test_severity_threshold(score, fail_on, fails) -> None:
    verdict = outcome(finding(cvss=score), GatePolicy(fail_on=fail_on))
    assert (verdict.outcome == "fail") is fails
    if fails:
        assert verdict.reasons[0].startswith("severity ") and verdict.reasons[0].endswith(f" >= {fail_on}")


def test_reason_texts() -> None:
    policy = GatePolicy(fail_on="high", fail_on_cvss=9.0, fail_on_kev=True, fail_on_epss=0.5)
    verdict = outcome(finding(cvss=9.8, kev=True, epss=0.92), policy)
    assert verdict.reasons == ("severity critical >= high", "CVSS 9.8 >= 9", "in CISA KEV", "EPSS 0.92 >= 0.5")


def test_unscored_never_meets_a_severity_band() -> None:
    assert outcome(finding(cvss=None, cvss_version=None, severity="unknown"), GatePolicy(fail_on="low")).outcome == "pass"


def test_cvss_threshold_alone() -> None:
    policy = GatePolicy(fail_on="none", fail_on_cvss=7.5)
    assert outcome(finding(cvss=7.5), policy).reasons == ("CVSS 7.5 >= 7.5",)
    assert outcome(finding(cvss=7.4), policy).outcome == "pass"


def test_kev_from_report_or_catalog() -> None:
    policy = GatePolicy(fail_on="none", fail_on_kev=True)
    assert outcome(finding(kev=True), policy).reasons == ("in CISA KEV",)
    assert outcome(finding(), policy).outcome == "pass"
    assert outcome(finding("CVE-2024-1086"), policy, kev={"cve-2024-1086"}).reasons == ("in CISA KEV",)
    assert outcome(finding(kev=True), GatePolicy(fail_on="none")).outcome == "pass"  # rule off


def test_epss_from_report_or_mapping() -> None:
    policy = GatePolicy(fail_on="none", fail_on_epss=0.5)
    assert outcome(finding(epss=0.5), policy).reasons == ("EPSS 0.5 >= 0.5",)
    assert outcome(finding(epss=0.49), policy).outcome == "pass"
    # Offline data replaces the report's (possibly stale) value.
    assert outcome(finding("CVE-1", epss=0.9), policy, epss={"CVE-1": 0.1}).outcome == "pass"
    assert outcome(finding("CVE-1"), policy, epss={"CVE-1": 0.7}).reasons == ("EPSS 0.7 >= 0.5",)


@pytest.mark.parametrize(
    "version, v3, v4, severity, score",
    [("3", 7.8, 5.3, "high", 7.8), ("4", 7.8, 5.3, "medium", 5.3), ("any", 7.8, 5.3, "high", 7.8),
     ("any", 5.0, 9.3, "critical", 9.3), ("3", None, 8.6, "high", 8.6), ("4", 6.1, None, "medium", 6.1)],
)
def test_v3_v4_bands(version, v3, v4, severity, score) -> None:
    verdict = outcome(finding(cvss=v3, cvss_v4=v4), GatePolicy(cvss_version=version))
    assert (verdict.gate_severity, verdict.gate_score) == (severity, score)
    assert (verdict.outcome == "fail") is (severity in ("high", "critical"))


def test_v2_score_uses_the_reports_severity() -> None:
    bash = finding(cvss=10.0, cvss_version="2.0", severity="high")
    assert gate_score(bash, "3") is None
    verdict = outcome(bash, GatePolicy(fail_on="critical"))
    assert verdict.gate_severity == "high" and verdict.outcome == "pass"


@pytest.mark.parametrize("status", sorted(NEVER_FAIL_STATUSES))
def test_triage_statuses_never_fail(status) -> None:
    policy = GatePolicy(fail_on="low", fail_on_kev=True)
    verdict = outcome(finding(cvss=9.8, kev=True, vuln_status=status), policy)
    assert verdict.outcome == "ignored" and verdict.note == f"status {status}"


def test_other_triage_statuses_still_fail() -> None:
    assert outcome(finding(cvss=9.8, vuln_status="exploitable")).outcome == "fail"
    assert outcome(finding(cvss=9.8, vuln_status="in_triage")).outcome == "fail"


def test_categories() -> None:
    upgradable = finding(cvss=9.8, category="upgradable")
    assert outcome(upgradable).outcome == "fail"  # every affected category is gated by default
    assert outcome(finding(cvss=9.8, category="unapplied")).outcome == "fail"
    narrowed = outcome(upgradable, GatePolicy(categories=("unfixed",)))
    assert narrowed.outcome == "filtered" and narrowed.note == "category upgradable not gated"
    assert outcome(upgradable, GatePolicy(categories=("unfixed", "upgradable"))).outcome == "fail"
    assert outcome(finding(cvss=9.8, category="unapplied"), GatePolicy(categories=("unapplied",))).outcome == "fail"
    for category in ("fixed", "whitelisted"):
        assert outcome(finding(cvss=9.8, category=category), GatePolicy(fail_on="low")).outcome == "ignored"


def test_scope() -> None:
    kernel = finding(cvss=9.8, package="linux-yocto", scope="kernel")
    assert outcome(kernel).outcome == "fail"
    verdict = outcome(kernel, GatePolicy(scope=("userspace", "toolchain")))
    assert verdict.outcome == "filtered" and verdict.note == "scope kernel not gated"


def test_waiver_applies_until_it_expires() -> None:
    waiver = Waiver(id="CVE-2024-0001", package="openssl", reason="mitigated by config", expires=TODAY)
    policy = GatePolicy(waivers=(waiver,))
    f = finding(cvss=9.1)
    active = evaluate([f], policy, today=TODAY)
    assert active.passed and active.verdicts[0].outcome == "waived"
    assert active.verdicts[0].waiver == waiver and active.verdicts[0].reasons == ("severity critical >= high",)
    assert active.expired_waivers == () and active.unused_waivers == ()
    lapsed = evaluate([f], policy, today=TODAY + timedelta(days=1))
    assert not lapsed.passed
    assert lapsed.verdicts[0].outcome == "fail" and lapsed.verdicts[0].note == f"waiver expired {TODAY.isoformat()}"
    assert lapsed.expired_waivers == (waiver,)


def test_waiver_scoped_to_package_and_version() -> None:
    waiver = Waiver(id="CVE-2024-0001", package="openssl", version="3.2.3", reason="r", expires=date(2030, 1, 1))
    policy = GatePolicy(waivers=(waiver,))
    assert outcome(finding(cvss=9.1), policy).outcome == "waived"
    assert outcome(finding(cvss=9.1, version="3.2.4"), policy).outcome == "fail"
    assert outcome(finding(cvss=9.1, package="libressl"), policy).outcome == "fail"


def test_unused_waivers_are_reported() -> None:
    waiver = Waiver(id="CVE-1999-9999", reason="r", expires=date(2030, 1, 1))
    result = evaluate([finding(cvss=2.0)], GatePolicy(waivers=(waiver,)), today=TODAY)
    assert result.unused_waivers == (waiver,)


def test_new_only_needs_ids() -> None:
    with pytest.raises(PolicyError, match="new-only"):
        evaluate([], GatePolicy(new_only=True), today=TODAY)


def test_new_only_with_a_baseline_file() -> None:
    current = load_report(FIXTURES / "report-contract.json").findings
    baseline = load_report(FIXTURES / "report-baseline.json").findings
    new = baseline_new_ids(current, baseline)
    assert ("busybox", "CVE-2022-48174") not in new  # known before, version bump does not make it new
    assert ("openssl", "CVE-2024-9143") not in new
    assert ("zlib", "CVE-2022-37434") in new  # fixed in the baseline, affected again: a regression
    assert ("linux-yocto", "CVE-2024-1086") in new
    assert ("busybox", "CVE-2023-42363") not in new  # fixed now
    policy = GatePolicy(new_only=True, categories=("unfixed", "upgradable"))
    result = evaluate(current, policy, today=TODAY, new_ids=new)
    failing = [(v.finding.package, v.finding.cve_id) for v in result.failing]
    assert failing == [("zlib", "CVE-2022-37434"), ("glibc", "CVE-2024-2961"),
                       ("ncurses", "CVE-2023-29491"), ("linux-yocto", "CVE-2024-1086")]
    busybox = next(v for v in result.verdicts if v.finding.cve_id == "CVE-2022-48174")
    assert busybox.outcome == "filtered" and busybox.note == "not new since the baseline"
    full = evaluate(current, policy.model_copy(update={"new_only": False}), today=TODAY)
    assert ("busybox", "CVE-2022-48174") in [(v.finding.package, v.finding.cve_id) for v in full.failing]


def test_contract_report_end_to_end_counts_and_order() -> None:
    report = load_report(FIXTURES / "report-contract.json")
    result = evaluate(report.findings, GatePolicy(), today=TODAY)
    assert not result.passed
    # Every affected category is gated by default: the upgradable critical zlib CVE fails too.
    assert [v.finding.cve_id for v in result.failing] == [
        "CVE-2022-37434", "CVE-2022-48174", "CVE-2024-2961", "CVE-2023-29491", "CVE-2024-1086"]
    assert dict(result.counts_by_category) == {
        "unfixed": 6, "unapplied": 1, "upgradable": 1, "fixed": 1, "whitelisted": 1}
    assert dict(result.counts_by_severity) == {
        "critical": 2, "high": 3, "medium": 2, "low": 0, "none": 0, "unknown": 1}
    assert [v.finding.cve_id for v in result.ignored] == ["CVE-2023-42363", "CVE-2024-36971"]


def test_combination_kev_and_scope_and_waiver() -> None:
    report = load_report(FIXTURES / "report-contract.json")
    policy = GatePolicy(
        fail_on="critical", fail_on_kev=True, scope=("kernel",),
        waivers=(Waiver(id="CVE-2024-1086", reason="fix lands next sprint", expires=date(2026, 12, 31)),),
    )
    result = evaluate(report.findings, policy, today=TODAY)
    assert result.passed
    assert [v.finding.cve_id for v in result.waived] == ["CVE-2024-1086"]
    assert result.waived[0].reasons == ("in CISA KEV",)
    later = evaluate(report.findings, policy, today=date(2027, 1, 1))
    assert [v.finding.cve_id for v in later.failing] == ["CVE-2024-1086"]


def test_ties_sort_by_numeric_cve_id() -> None:
    findings = [finding("CVE-2024-10000", cvss=9.8), finding("CVE-2024-9999", cvss=9.8), finding("CVE-2023-5", cvss=9.9)]
    result = evaluate(findings, GatePolicy(), today=TODAY)
    assert [v.finding.cve_id for v in result.failing] == ["CVE-2023-5", "CVE-2024-9999", "CVE-2024-10000"]


def test_nothing_to_report_passes() -> None:
    result = evaluate([], GatePolicy(fail_on="low"), today=TODAY)
    assert result.passed and result.verdicts == () and result.counts_by_category["unfixed"] == 0
