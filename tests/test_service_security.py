"""Authentication and authorisation of the local service."""
from __future__ import annotations

import json
from pathlib import Path

import pytest
import requests

import timesys
from timesys.core import endpoints
from timesys.core.llapi import LLAPI

from .conftest import LocalVigiles

EXAMPLE = (Path(__file__).resolve().parents[1] / "examples" / "core-image-minimal.vigiles.json").read_text()


def test_second_user_can_neither_see_nor_change(local_vigiles: LocalVigiles) -> None:
    alice, mallory = local_vigiles.client("alice@example.com"), local_vigiles.client("mallory@example.com")
    group = endpoints.GROUP_CREATE.call(alice, group_name="Alice's team")["token"]
    folder = endpoints.FOLDER_CREATE.call(alice, folder_name="rel", group_token=group)["folder_token"]
    upload = endpoints.MANIFEST_UPLOAD.call(alice, manifest=EXAMPLE, filter_results=False, upload_only=False,
                                            group_token=group)
    token, report = upload["manifest_token"], upload["report_token"]
    private = endpoints.MANIFEST_UPLOAD.call(alice, manifest=EXAMPLE, filter_results=False, upload_only=True)

    assert endpoints.GROUPS_LIST.call(mallory, include_private_workspaces=True) == [
        g for g in endpoints.GROUPS_LIST.call(mallory, include_private_workspaces=True) if g["name"] != "Alice's team"]
    assert endpoints.MANIFESTS_LIST.call(mallory) == []
    denied = [
        lambda: endpoints.GROUP_INFO.call(mallory, group_token=group, subgroups=False),
        lambda: endpoints.GROUP_MEMBERS.call(mallory, group_token=group),
        lambda: endpoints.GROUP_SETTINGS_UPDATE.call(mallory, group_token=group, vuln_strict_match="on"),
        lambda: endpoints.GROUP_MEMBER_ADD.call(mallory, group_token=group, member_email="mallory@example.com",
                                                role="admin", access_subgroups=True),
        lambda: endpoints.GROUP_DELETE.call(mallory, group_token=group),
        lambda: endpoints.FOLDERS_LIST.call(mallory, folder_token=folder),
        lambda: endpoints.MANIFEST_INFO.call(mallory, manifest_token=token),
        lambda: endpoints.MANIFEST_INFO.call(mallory, manifest_token=private["manifest_token"]),
        lambda: endpoints.MANIFEST_DELETE.call(mallory, manifest_token=token, confirmed=True),
        lambda: endpoints.MANIFEST_RESCAN.call(mallory, manifest_token=token, rescan_only=False, filter_results=False),
        lambda: endpoints.MANIFEST_UPLOAD.call(mallory, manifest=EXAMPLE, filter_results=False, upload_only=False,
                                               group_token=group),
        lambda: endpoints.REPORT_DOWNLOAD.call(mallory, report_token=report, filter_results=False, format="csv"),
        lambda: endpoints.REPORTS_COMPARE.call(mallory, token_one=report, token_two=report, remove_whitelist=False,
                                               remove_not_affected=False, filter_results=False),
        lambda: endpoints.MANIFESTS_MOVE.call(mallory, sbom_tokens=[token], copy=True, include_history=False,
                                              target_group_token=group),
        lambda: endpoints.CVE_SET_STATUS.call(mallory, cve_id="CVE-2022-48174", scope="manifest", package_name="busybox",
                                              status="not_affected", manifest_tokens=[token]),
    ]
    for call in denied:
        with pytest.raises(timesys.NotFoundError):
            call()
    # nothing changed
    assert endpoints.GROUP_SETTINGS.call(alice, group_token=group)["vuln_strict_match"] == "off"
    assert [m["email"] for m in endpoints.GROUP_MEMBERS.call(alice, group_token=group)["group_members"]] == [
        "alice@example.com"]
    assert endpoints.MANIFEST_INFO.call(alice, manifest_token=token)["manifest_token"] == token


def test_viewer_cannot_change(local_vigiles: LocalVigiles) -> None:
    alice, bob = local_vigiles.client("alice@example.com"), local_vigiles.client("bob@example.com")
    group = endpoints.GROUP_CREATE.call(alice, group_name="Team")["token"]
    endpoints.GROUP_MEMBER_ADD.call(alice, group_token=group, member_email="bob@example.com", role="viewer",
                                    access_subgroups=False)
    assert endpoints.GROUP_INFO.call(bob, group_token=group, subgroups=False)["token"] == group
    for call in (lambda: endpoints.GROUP_SETTINGS_UPDATE.call(bob, group_token=group, vuln_strict_match="on"),
                 lambda: endpoints.FOLDER_CREATE.call(bob, folder_name="x", group_token=group),
                 lambda: endpoints.MANIFEST_UPLOAD.call(bob, manifest=EXAMPLE, filter_results=False,
                                                        upload_only=True, group_token=group)):
        with pytest.raises(timesys.AuthenticationError) as info:
            call()
        assert info.value.status == 403 and "viewer" in str(info.value)
    subgroup = endpoints.GROUP_CREATE.call(alice, group_name="Sub", group_token=group)["token"]
    with pytest.raises(timesys.NotFoundError):  # no access_subgroups
        endpoints.GROUP_INFO.call(bob, group_token=subgroup, subgroups=False)


def test_bad_signature_and_unknown_email(local_vigiles: LocalVigiles, write_key_file: object) -> None:
    client = local_vigiles.client("real@example.com")
    client.key = b"wrong key"
    with pytest.raises(timesys.AuthenticationError) as info:
        endpoints.HEARTBEAT.call(client)
    assert info.value.status == 401 and "bad signature" in str(info.value)
    stranger = LLAPI(url=local_vigiles.url)
    stranger.email, stranger.key, stranger.configured = "nobody@example.com", b"k", True
    with pytest.raises(timesys.AuthenticationError, match="unknown email or bad signature"):
        endpoints.HEARTBEAT.call(stranger)
    response = requests.post(local_vigiles.url + "/api/v1/vigiles/heartbeat", data={"email": "real@example.com"},
                             timeout=10)
    assert response.status_code == 401 and response.json()["status_code"] == 401


def test_explain_signatures(tmp_path: Path) -> None:
    from timesys_ci.service.datadir import create_user
    from timesys_ci.service.server import running_service

    with running_service(tmp_path / "data", explain_signatures=True, seed=False) as service:
        key_file = create_user(service.storage, "author@example.com", tmp_path / "key", service.url)
        key = json.loads(key_file.read_text())["organization_key"]
        response = requests.get(service.url + "/api/v1/vigiles/cves", params={"email": "author@example.com",
                                                                              "product": "a b", "version": ""},
                                headers={"X-Auth-Signature": "AAAA"}, timeout=10)
        body = response.json()
        assert response.status_code == 401
        assert body["expected_message"] == "GET/api/v1/vigiles/cvesemail=author@example.com&product=a b&version="
        assert key not in response.text


def test_signed_path_prefix_and_plus_in_path(local_vigiles: LocalVigiles) -> None:
    """A deployment prefix is not signed; '+' in a member email stays '+' (vigiles-api.md 2.6)."""
    alice = local_vigiles.client("alice@example.com")
    group = endpoints.GROUP_CREATE.call(alice, group_name="T")["token"]
    local_vigiles.add_user("dev+ci@example.com")
    endpoints.GROUP_MEMBER_ADD.call(alice, group_token=group, member_email="dev+ci@example.com", role="viewer",
                                    access_subgroups=False)
    assert endpoints.GROUP_MEMBER_UPDATE.call(alice, group_token=group, member_email="dev+ci@example.com",
                                              new_role="editor")["status_code"] == 200
    alice.url = local_vigiles.url + "/vigiles"  # a path prefix in the base URL
    assert endpoints.HEARTBEAT.call(alice) == {"ok": True}
