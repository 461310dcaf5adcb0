"""The SQLite schema, as numbered migrations applied in order (PRAGMA user_version).

A migration is SQL text, or a function `(connection, data_dir)` for a step SQL
cannot express; each runs inside the one migration transaction.
"""
from __future__ import annotations

import sqlite3
from pathlib import Path
from typing import Callable, Union

from timesys_ci.service.storage.keys import KeyStore


def _seal_api_keys(db: sqlite3.Connection, data_dir: Path) -> None:
    """2: API keys sealed with the server secret (storage.keys); the clear-text column is dropped."""
    keys = KeyStore(data_dir)
    db.execute("CREATE TABLE users_sealed (email TEXT PRIMARY KEY, sealed_key BLOB NOT NULL,"
               " is_admin INTEGER NOT NULL DEFAULT 0, workspace_token TEXT, created TEXT NOT NULL)")
    rows = db.execute("SELECT email, api_key, is_admin, workspace_token, created FROM users").fetchall()
    db.executemany("INSERT INTO users_sealed (email, sealed_key, is_admin, workspace_token, created)"
                   " VALUES (?, ?, ?, ?, ?)",
                   [(row[0], keys.seal(row[0], row[1]), row[2], row[3], row[4]) for row in rows])
    db.execute("DROP TABLE users")
    db.execute("ALTER TABLE users_sealed RENAME TO users")


Migration = Union[str, Callable[[sqlite3.Connection, Path], None]]

MIGRATIONS: tuple[Migration, ...] = (
    # 1: initial schema
    """
    CREATE TABLE users (
        email TEXT PRIMARY KEY,
        api_key TEXT NOT NULL,
        is_admin INTEGER NOT NULL DEFAULT 0,
        workspace_token TEXT,
        created TEXT NOT NULL
    );
    CREATE TABLE groups (
        token TEXT PRIMARY KEY,
        name TEXT NOT NULL,
        description TEXT NOT NULL DEFAULT '',
        parent_token TEXT REFERENCES groups(token) ON DELETE CASCADE,
        organization_token TEXT NOT NULL,
        kind TEXT NOT NULL CHECK (kind IN ('group', 'workspace')),
        owner_email TEXT NOT NULL,
        archived INTEGER NOT NULL DEFAULT 0,
        created TEXT NOT NULL,
        vuln_identifiers TEXT NOT NULL DEFAULT '["CPE", "CVE Product", "Package Name"]',
        vuln_strict_match TEXT NOT NULL DEFAULT 'off',
        report_dep_vulns TEXT NOT NULL DEFAULT 'on',
        auto_close_jira_issues TEXT NOT NULL DEFAULT 'off'
    );
    CREATE INDEX groups_parent ON groups(parent_token);
    CREATE TABLE members (
        group_token TEXT NOT NULL REFERENCES groups(token) ON DELETE CASCADE,
        email TEXT NOT NULL,
        role TEXT NOT NULL,
        access_subgroups INTEGER NOT NULL DEFAULT 0,
        added TEXT NOT NULL,
        PRIMARY KEY (group_token, email)
    );
    CREATE INDEX members_email ON members(email);
    CREATE TABLE folders (
        token TEXT PRIMARY KEY,
        name TEXT NOT NULL,
        description TEXT NOT NULL DEFAULT '',
        group_token TEXT NOT NULL REFERENCES groups(token) ON DELETE CASCADE,
        parent_token TEXT REFERENCES folders(token) ON DELETE CASCADE,
        archived INTEGER NOT NULL DEFAULT 0,
        created TEXT NOT NULL
    );
    CREATE INDEX folders_group ON folders(group_token);
    CREATE TABLE manifests (
        token TEXT PRIMARY KEY,
        name TEXT NOT NULL,
        group_token TEXT NOT NULL REFERENCES groups(token) ON DELETE CASCADE,
        folder_token TEXT REFERENCES folders(token) ON DELETE SET NULL,
        owner_email TEXT NOT NULL,
        upload_date TEXT NOT NULL,
        sbom_format TEXT NOT NULL,
        content TEXT NOT NULL,
        kernel_config TEXT,
        uboot_config TEXT
    );
    CREATE INDEX manifests_group ON manifests(group_token);
    CREATE INDEX manifests_folder ON manifests(folder_token);
    CREATE TABLE reports (
        token TEXT PRIMARY KEY,
        manifest_token TEXT NOT NULL REFERENCES manifests(token) ON DELETE CASCADE,
        seq INTEGER NOT NULL,
        created TEXT NOT NULL,
        body TEXT NOT NULL,
        UNIQUE (manifest_token, seq)
    );
    CREATE TABLE vuln_statuses (
        id INTEGER PRIMARY KEY,
        cve_id TEXT NOT NULL,
        package TEXT NOT NULL,
        package_version TEXT NOT NULL DEFAULT '',
        scope TEXT NOT NULL CHECK (scope IN ('manifest', 'group', 'all')),
        target_token TEXT NOT NULL DEFAULT '',
        owner_email TEXT NOT NULL,
        status TEXT NOT NULL,
        justification TEXT NOT NULL DEFAULT '',
        detail TEXT NOT NULL DEFAULT '',
        updated TEXT NOT NULL,
        UNIQUE (cve_id, package, package_version, scope, target_token, owner_email)
    );
    CREATE TABLE custom_scores (
        manifest_token TEXT NOT NULL REFERENCES manifests(token) ON DELETE CASCADE,
        package TEXT NOT NULL,
        package_version TEXT NOT NULL DEFAULT '',
        cve_id TEXT NOT NULL,
        score TEXT NOT NULL,
        PRIMARY KEY (manifest_token, package, package_version, cve_id)
    );
    CREATE TABLE activity (
        id INTEGER PRIMARY KEY,
        group_token TEXT NOT NULL REFERENCES groups(token) ON DELETE CASCADE,
        date TEXT NOT NULL,
        log_type TEXT NOT NULL,
        method TEXT NOT NULL,
        description TEXT NOT NULL,
        folder_token TEXT,
        manifest_token TEXT,
        report_token TEXT,
        user_email TEXT NOT NULL,
        vuln_id TEXT,
        package TEXT,
        package_version TEXT
    );
    CREATE INDEX activity_group ON activity(group_token);
    CREATE TABLE vulns (
        cve_id TEXT PRIMARY KEY,
        last_modified TEXT NOT NULL DEFAULT '',
        record TEXT NOT NULL
    );
    CREATE TABLE vuln_products (
        product TEXT NOT NULL,
        vendor TEXT NOT NULL,
        cve_id TEXT NOT NULL REFERENCES vulns(cve_id) ON DELETE CASCADE,
        PRIMARY KEY (product, vendor, cve_id)
    );
    CREATE INDEX vuln_products_cve ON vuln_products(cve_id);
    CREATE TABLE kev (cve_id TEXT PRIMARY KEY, date_added TEXT NOT NULL DEFAULT '');
    CREATE TABLE epss (cve_id TEXT PRIMARY KEY, score REAL NOT NULL, percentile REAL);
    """,
    _seal_api_keys,
    # 3: vulnerability data lives in its own file (vulndb.sqlite3); legacy_vulns moved the rows there first
    """
    DROP TABLE IF EXISTS vuln_products;
    DROP TABLE IF EXISTS vulns;
    DROP TABLE IF EXISTS kev;
    DROP TABLE IF EXISTS epss;
    """,
)

SCHEMA_VERSION = len(MIGRATIONS)
