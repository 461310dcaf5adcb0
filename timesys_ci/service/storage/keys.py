"""API keys at rest: sealed with AES-256-GCM under a server secret kept outside the database.

HMAC verification needs each user's key itself (a hash would not do), so the
database stores it encrypted: `nonce (12 bytes) || ciphertext+tag`, with the
user's email as associated data (a sealed key copied to another user's row
does not open). The 32-byte secret lives in `<data dir>/service-secret.key`,
mode 0600, created once. A copy of the database alone (a backup, a file-mode
slip, a bug report) reveals no key; the database and the secret together do.
Losing the secret makes every key unusable: the users must be added again.
"""
from __future__ import annotations

import os
from pathlib import Path

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

SECRET_FILE = "service-secret.key"
_NONCE = 12
_SECRET_BYTES = 32


class KeyStoreError(RuntimeError):
    """The server secret is unreadable, or a sealed key does not open with it."""


def _load_or_create_secret(path: Path) -> bytes:
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        os.chmod(path, 0o600)
        secret = path.read_bytes()
        if len(secret) != _SECRET_BYTES:
            raise KeyStoreError(f"{path}: expected a {_SECRET_BYTES}-byte server secret, found {len(secret)} bytes")
        return secret
    secret = os.urandom(_SECRET_BYTES)
    try:
        os.write(fd, secret)
        os.fsync(fd)
    finally:
        os.close(fd)
    return secret


class KeyStore:
    """Seal and open API keys with the data dir's server secret."""

    def __init__(self, data_dir: Path) -> None:
        self.path = Path(data_dir) / SECRET_FILE
        self._aead = AESGCM(_load_or_create_secret(self.path))
        self._decoy = self.seal("decoy@timesys-ci.invalid", os.urandom(32).hex())

    def seal(self, email: str, api_key: str) -> bytes:
        nonce = os.urandom(_NONCE)
        return nonce + self._aead.encrypt(nonce, api_key.encode("utf-8"), email.encode("utf-8"))

    def open(self, email: str, sealed: bytes) -> bytes:
        """The key bytes the client signs with."""
        try:
            return self._aead.decrypt(bytes(sealed[:_NONCE]), bytes(sealed[_NONCE:]), email.encode("utf-8"))
        except InvalidTag:
            raise KeyStoreError(f"the stored key of {email} does not open with {self.path}") from None

    def open_decoy(self) -> None:
        """The work of `open`, for an unknown email (no timing difference)."""
        self.open("decoy@timesys-ci.invalid", self._decoy)
