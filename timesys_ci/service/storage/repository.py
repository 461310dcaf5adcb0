"""Everything the service stores about accounts, behind one class: users, groups, folders, SBOMs, reports, triage.

SQL lives here and nowhere else; handlers call these methods. Rows come back as
`sqlite3.Row` (mapping-like) or plain dicts. Vulnerability data lives in its own file,
`<data dir>/vulndb.sqlite3`, behind `timesys_ci.vulndb.store.VulnStore` (`Storage.vulns`).
"""
from __future__ import annotations

import json
import secrets
import sqlite3
from collections.abc import Callable, Iterable, Mapping, Sequence
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Optional

from timesys_ci.service.storage.database import Database
from timesys_ci.service.storage.keys import KeyStore
from timesys_ci.service.storage.legacy_vulns import move_legacy_vulns
from timesys_ci.vulndb.store import VulnStore, open_store

#: Roles a member can hold; each includes the rights of the ones after it.
ROLES = ("admin", "editor", "viewer")


def now() -> str:
    return datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def new_token(prefix: str) -> str:
    """Unguessable, URL-path-safe tokens (report URLs work as capabilities)."""
    return f"{prefix}{secrets.token_hex(12).upper()}"


class Storage:
    def __init__(self, data_dir: Path) -> None:
        self.data_dir = Path(data_dir)
        # Before the migration that drops them: vulnerability tables of older data dirs move to the vuln store.
        move_legacy_vulns(self.data_dir / "vigiles.sqlite3", self.data_dir)
        self.db = Database(self.data_dir / "vigiles.sqlite3")
        self.keys = KeyStore(self.data_dir)
        self._vulns: Optional[VulnStore] = None

    @property
    def vulns(self) -> VulnStore:
        """The data dir's vulnerability database (opened on first use)."""
        if self._vulns is None:
            self._vulns = open_store(self.data_dir)
        return self._vulns

    def close(self) -> None:
        self.db.close()
        if self._vulns is not None:
            self._vulns.close()

    def _rows(self, sql: str, params: Sequence[Any] = ()) -> list[sqlite3.Row]:
        return self.db.connection().execute(sql, params).fetchall()

    def _row(self, sql: str, params: Sequence[Any] = ()) -> Optional[sqlite3.Row]:
        return self.db.connection().execute(sql, params).fetchone()

    # -- users -----------------------------------------------------------------------------

    def add_user(self, email: str, api_key: str, *, is_admin: bool = False) -> str:
        """Create a user and their Private Workspace; returns the workspace token."""
        workspace = new_token("W")
        with self.db.write() as db:
            if db.execute("SELECT 1 FROM users WHERE email = ?", (email,)).fetchone():
                raise KeyError(email)
            db.execute("INSERT INTO users (email, sealed_key, is_admin, workspace_token, created) VALUES (?, ?, ?, ?, ?)",
                       (email, self.keys.seal(email, api_key), int(is_admin), workspace, now()))
            db.execute("INSERT INTO groups (token, name, organization_token, kind, owner_email, created) "
                       "VALUES (?, 'Private Workspace', ?, 'workspace', ?, ?)", (workspace, "ORG-LOCAL", email, now()))
            db.execute("INSERT INTO members (group_token, email, role, access_subgroups, added) VALUES (?, ?, 'admin', 1, ?)",
                       (workspace, email, now()))
        return workspace

    def user(self, email: str) -> Optional[sqlite3.Row]:
        return self._row("SELECT email, is_admin, workspace_token, created FROM users WHERE email = ?", (email,))

    def signing_key(self, email: str) -> Optional[bytes]:
        """The user's API key (unsealed), or None for an unknown email after the same work."""
        row = self._row("SELECT sealed_key FROM users WHERE email = ?", (email,))
        if row is None:
            self.keys.open_decoy()
            return None
        return self.keys.open(email, row["sealed_key"])

    # -- groups and membership -------------------------------------------------------------

    def create_group(self, name: str, description: str, parent: Optional[sqlite3.Row], owner: str) -> sqlite3.Row:
        token = new_token("G")
        organization = parent["organization_token"] if parent else "ORG-LOCAL"
        with self.db.write() as db:
            db.execute("INSERT INTO groups (token, name, description, parent_token, organization_token, kind, owner_email,"
                       " created) VALUES (?, ?, ?, ?, ?, 'group', ?, ?)",
                       (token, name, description, parent["token"] if parent else None, organization, owner, now()))
            db.execute("INSERT INTO members (group_token, email, role, access_subgroups, added) VALUES (?, ?, 'admin', 1, ?)",
                       (token, owner, now()))
        return self.group(token)  # type: ignore[return-value]

    def group(self, token: str) -> Optional[sqlite3.Row]:
        return self._row("SELECT * FROM groups WHERE token = ?", (token,))

    def ancestors(self, token: str) -> list[sqlite3.Row]:
        """The group and its parents, nearest first."""
        chain: list[sqlite3.Row] = []
        current = self.group(token)
        while current is not None and len(chain) < 64:
            chain.append(current)
            current = self.group(current["parent_token"]) if current["parent_token"] else None
        return chain

    def role_of(self, email: str, group_token: str) -> Optional[str]:
        """The member's role in a group, directly or inherited from a parent that grants subgroup access."""
        for depth, group in enumerate(self.ancestors(group_token)):
            row = self._row("SELECT role, access_subgroups FROM members WHERE group_token = ? AND email = ?",
                            (group["token"], email))
            if row is not None and (depth == 0 or row["access_subgroups"]):
                return str(row["role"])
        return None

    def visible_groups(self, email: str, *, archived: bool, include_workspaces: bool, is_admin: bool) -> list[sqlite3.Row]:
        rows = self._rows("SELECT * FROM groups WHERE archived = ? ORDER BY created, rowid", (int(archived),))
        visible = []
        for row in rows:
            if row["kind"] == "workspace":
                if include_workspaces and (is_admin or row["owner_email"] == email):
                    visible.append(row)
            elif is_admin or self.role_of(email, row["token"]) is not None:
                visible.append(row)
        return visible

    def subgroups(self, token: str) -> list[sqlite3.Row]:
        return self._rows("SELECT * FROM groups WHERE parent_token = ? ORDER BY created, rowid", (token,))

    def set_groups_archived(self, tokens: Iterable[str], archived: bool) -> None:
        with self.db.write() as db:
            db.executemany("UPDATE groups SET archived = ? WHERE token = ?", [(int(archived), t) for t in tokens])

    def delete_group(self, token: str) -> None:
        with self.db.write() as db:
            db.execute("DELETE FROM groups WHERE token = ?", (token,))

    def members(self, group_token: str) -> list[sqlite3.Row]:
        return self._rows("SELECT * FROM members WHERE group_token = ? ORDER BY added, rowid", (group_token,))

    def member(self, group_token: str, email: str) -> Optional[sqlite3.Row]:
        return self._row("SELECT * FROM members WHERE group_token = ? AND email = ?", (group_token, email))

    def put_member(self, group_token: str, email: str, role: str, access_subgroups: Optional[bool] = None) -> None:
        with self.db.write() as db:
            if access_subgroups is None:
                db.execute("UPDATE members SET role = ? WHERE group_token = ? AND email = ?", (role, group_token, email))
            else:
                db.execute("INSERT INTO members (group_token, email, role, access_subgroups, added) VALUES (?, ?, ?, ?, ?)"
                           " ON CONFLICT (group_token, email) DO UPDATE SET role = excluded.role,"
                           " access_subgroups = excluded.access_subgroups",
                           (group_token, email, role, int(access_subgroups), now()))

    def remove_member(self, group_token: str, email: str) -> None:
        with self.db.write() as db:
            db.execute("DELETE FROM members WHERE group_token = ? AND email = ?", (group_token, email))

    def update_settings(self, group_token: str, settings: Mapping[str, Any]) -> None:
        columns = {"vuln_identifiers", "vuln_strict_match", "report_dep_vulns", "auto_close_jira_issues"}
        with self.db.write() as db:
            for name, value in settings.items():
                assert name in columns
                stored = json.dumps(list(value)) if name == "vuln_identifiers" else value
                db.execute(f"UPDATE groups SET {name} = ? WHERE token = ?", (stored, group_token))

    # -- folders ---------------------------------------------------------------------------

    def create_folder(self, name: str, description: str, group_token: str, parent_token: Optional[str]) -> sqlite3.Row:
        token = new_token("F")
        with self.db.write() as db:
            db.execute("INSERT INTO folders (token, name, description, group_token, parent_token, created)"
                       " VALUES (?, ?, ?, ?, ?, ?)", (token, name, description, group_token, parent_token, now()))
        return self.folder(token)  # type: ignore[return-value]

    def folder(self, token: str) -> Optional[sqlite3.Row]:
        return self._row("SELECT * FROM folders WHERE token = ?", (token,))

    def folder_named(self, group_token: str, parent_token: Optional[str], name: str) -> Optional[sqlite3.Row]:
        return self._row("SELECT * FROM folders WHERE group_token = ? AND parent_token IS ? AND name = ? AND archived = 0",
                         (group_token, parent_token, name))

    def folders(self, *, group_token: Optional[str] = None, parent_token: Optional[str] = None,
                archived: bool = False) -> list[sqlite3.Row]:
        if parent_token is not None:
            return self._rows("SELECT * FROM folders WHERE parent_token = ? AND archived = ? ORDER BY created, rowid",
                              (parent_token, int(archived)))
        return self._rows("SELECT * FROM folders WHERE group_token = ? AND parent_token IS NULL AND archived = ?"
                          " ORDER BY created, rowid", (group_token, int(archived)))

    def set_folders_archived(self, tokens: Iterable[str], archived: bool) -> None:
        with self.db.write() as db:
            db.executemany("UPDATE folders SET archived = ? WHERE token = ?", [(int(archived), t) for t in tokens])

    # -- manifests (SBOMs) and reports -----------------------------------------------------------

    def new_manifest(self, *, name: str, group_token: str, folder_token: Optional[str], owner: str,
                     sbom_format: str, content: str, kernel_config: Optional[str],
                     uboot_config: Optional[str]) -> dict[str, Any]:
        """A manifest row with a fresh token and date, not yet stored (see `add_manifest`)."""
        return {"token": new_token("M"), "name": name, "group_token": group_token, "folder_token": folder_token,
                "owner_email": owner, "upload_date": now(), "sbom_format": sbom_format, "content": content,
                "kernel_config": kernel_config, "uboot_config": uboot_config}

    def add_manifest(self, manifest: Mapping[str, Any], *, report: Optional[tuple[str, str, dict[str, Any]]] = None,
                     new_folder: Optional[tuple[str, str, Optional[str]]] = None) -> Optional[str]:
        """Store an upload in one transaction: its subfolder if new, the manifest, its first report.

        `report` is (report token, created, body) with manifest_version 1;
        `new_folder` is (name, group token, parent folder token) of a subfolder
        the upload goes into, created unless another upload made it meanwhile.
        Returns the folder token the manifest landed in (patched into
        `manifest` and the report body when an existing subfolder was found).
        """
        folder_token = manifest["folder_token"]
        with self.db.write() as db:
            if new_folder is not None:
                name, group_token, parent = new_folder
                existing = self.folder_named(group_token, parent, name)  # same connection: inside this transaction
                if existing is not None:
                    folder_token = existing["token"]
                else:
                    db.execute("INSERT INTO folders (token, name, description, group_token, parent_token, created)"
                               " VALUES (?, ?, '', ?, ?, ?)", (folder_token, name, group_token, parent, now()))
            db.execute("INSERT INTO manifests (token, name, group_token, folder_token, owner_email, upload_date,"
                       " sbom_format, content, kernel_config, uboot_config) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                       (manifest["token"], manifest["name"], manifest["group_token"], folder_token,
                        manifest["owner_email"], manifest["upload_date"], manifest["sbom_format"],
                        manifest["content"], manifest["kernel_config"], manifest["uboot_config"]))
            if report is not None:
                token, created, body = report
                if "folder_token" in body:
                    body["folder_token"] = folder_token
                db.execute("INSERT INTO reports (token, manifest_token, seq, created, body) VALUES (?, ?, 1, ?, ?)",
                           (token, manifest["token"], created, json.dumps(body)))
        return folder_token

    def manifest(self, token: str) -> Optional[sqlite3.Row]:
        return self._row("SELECT * FROM manifests WHERE token = ?", (token,))

    def manifests(self, *, group_tokens: Sequence[str], folder_token: Optional[str] = None) -> list[sqlite3.Row]:
        if folder_token is not None:
            return self._rows("SELECT * FROM manifests WHERE folder_token = ? ORDER BY upload_date, rowid",
                              (folder_token,))
        marks = ",".join("?" * len(group_tokens))
        return self._rows(f"SELECT * FROM manifests WHERE group_token IN ({marks}) ORDER BY upload_date, rowid",
                          list(group_tokens))

    def delete_manifest(self, token: str) -> None:
        with self.db.write() as db:
            db.execute("DELETE FROM manifests WHERE token = ?", (token,))

    def move_manifest(self, token: str, group_token: str, folder_token: Optional[str]) -> None:
        with self.db.write() as db:
            db.execute("UPDATE manifests SET group_token = ?, folder_token = ? WHERE token = ?",
                       (group_token, folder_token, token))

    def copy_manifest(self, token: str, group_token: str, folder_token: Optional[str], include_history: bool) -> str:
        new = new_token("M")
        with self.db.write() as db:
            db.execute("INSERT INTO manifests (token, name, group_token, folder_token, owner_email, upload_date,"
                       " sbom_format, content, kernel_config, uboot_config) SELECT ?, name, ?, ?, owner_email,"
                       " upload_date, sbom_format, content, kernel_config, uboot_config FROM manifests WHERE token = ?",
                       (new, group_token, folder_token, token))
            reports = db.execute("SELECT * FROM reports WHERE manifest_token = ? ORDER BY seq", (token,)).fetchall()
            for report in reports[:None if include_history else 0] or reports[-1:]:
                body = json.loads(report["body"])
                report_token = new_token("R")
                body.update(manifest_token=new, report_token=report_token, group_token=group_token,
                            folder_token=folder_token)
                db.execute("INSERT INTO reports (token, manifest_token, seq, created, body) VALUES (?, ?, ?, ?, ?)",
                           (report_token, new, report["seq"], report["created"], json.dumps(body)))
        return new

    def add_report(self, manifest_token: str, token: str, created: str,
                   numbered: Callable[[int], dict[str, Any]]) -> dict[str, Any]:
        """Store a new report of a stored SBOM; `numbered(seq)` gives its body once its number is known.

        The scan runs before, outside the write transaction: `numbered` only
        fills in the number, so the database lock is held for a moment.
        """
        with self.db.write() as db:
            seq = db.execute("SELECT COALESCE(MAX(seq), 0) + 1 FROM reports WHERE manifest_token = ?",
                             (manifest_token,)).fetchone()[0]
            body = numbered(seq)
            db.execute("INSERT INTO reports (token, manifest_token, seq, created, body) VALUES (?, ?, ?, ?, ?)",
                       (token, manifest_token, seq, created, json.dumps(body)))
        return body

    def report(self, token: str) -> Optional[sqlite3.Row]:
        return self._row("SELECT * FROM reports WHERE token = ?", (token,))

    def reports(self, manifest_token: str) -> list[sqlite3.Row]:
        return self._rows("SELECT token, manifest_token, seq, created FROM reports WHERE manifest_token = ? ORDER BY seq",
                          (manifest_token,))

    def latest_report(self, manifest_token: str) -> Optional[sqlite3.Row]:
        return self._row("SELECT * FROM reports WHERE manifest_token = ? ORDER BY seq DESC LIMIT 1", (manifest_token,))

    # -- triage: statuses, custom scores, activity log ----------------------------------------------

    def put_status(self, *, cve_id: str, package: str, package_version: str, scope: str, target_token: str,
                   owner: str, status: str, justification: str, detail: str) -> None:
        with self.db.write() as db:
            db.execute("INSERT INTO vuln_statuses (cve_id, package, package_version, scope, target_token, owner_email,"
                       " status, justification, detail, updated) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
                       " ON CONFLICT (cve_id, package, package_version, scope, target_token, owner_email) DO UPDATE SET"
                       " status = excluded.status, justification = excluded.justification,"
                       " detail = excluded.detail, updated = excluded.updated",
                       (cve_id, package, package_version, scope, target_token, owner, status, justification, detail,
                        now()))

    def statuses_for(self, manifest_token: str, group_tokens: Sequence[str], owner: str) -> list[sqlite3.Row]:
        """Statuses that apply to an SBOM, most specific last (all < group < manifest; then by time)."""
        marks = ",".join("?" * len(group_tokens)) or "''"
        return self._rows(
            "SELECT * FROM vuln_statuses WHERE (scope = 'manifest' AND target_token = ?)"
            f" OR (scope = 'group' AND target_token IN ({marks})) OR (scope = 'all' AND owner_email = ?)"
            " ORDER BY CASE scope WHEN 'all' THEN 0 WHEN 'group' THEN 1 ELSE 2 END, updated, id",
            [manifest_token, *group_tokens, owner])

    def put_custom_score(self, manifest_token: str, package: str, package_version: str, cve_id: str, score: str) -> None:
        with self.db.write() as db:
            db.execute("INSERT INTO custom_scores (manifest_token, package, package_version, cve_id, score)"
                       " VALUES (?, ?, ?, ?, ?) ON CONFLICT (manifest_token, package, package_version, cve_id)"
                       " DO UPDATE SET score = excluded.score", (manifest_token, package, package_version, cve_id, score))

    def custom_scores(self, manifest_token: str) -> list[sqlite3.Row]:
        return self._rows("SELECT * FROM custom_scores WHERE manifest_token = ?", (manifest_token,))

    def log_activity(self, **entry: Any) -> None:
        entry.setdefault("date", now())
        entry.setdefault("method", "api")
        columns = ",".join(entry)
        with self.db.write() as db:
            db.execute(f"INSERT INTO activity ({columns}) VALUES ({','.join('?' * len(entry))})", list(entry.values()))

    def activity(self, group_token: str, filters: Mapping[str, str]) -> list[sqlite3.Row]:
        allowed = {"log_type", "method", "folder_token", "manifest_token", "report_token", "user_email", "package",
                   "package_version", "vuln_id"}
        clauses = ["group_token = ?"] + [f"{name} = ?" for name in filters if name in allowed]
        values = [group_token] + [value for name, value in filters.items() if name in allowed]
        return self._rows(f"SELECT * FROM activity WHERE {' AND '.join(clauses)} ORDER BY id", values)
