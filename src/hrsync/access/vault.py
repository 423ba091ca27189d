"""Secrets at rest: client secrets, refresh tokens and passwords are sealed with a key that
lives outside the database.

The key comes from ``HRSYNC_SECRET_KEY`` or from a key file (beside the store), created
with owner-only permissions (0600) when the first secret is sealed.
Without the key, the database holds nothing usable.
"""

from __future__ import annotations

import base64
import json
import os
import stat
from pathlib import Path
from typing import Any

from cryptography.fernet import Fernet, InvalidToken

from hrsync.errors import ConfigError

ENV_KEY = "HRSYNC_SECRET_KEY"


class Vault:
    """Seals and unseals secrets with one key; a key file is made only when the first secret
    is sealed, so reading commands leave nothing behind."""

    def __init__(self, key: bytes | None = None, *, key_file: Path | None = None) -> None:
        self._fernet = None if key is None else _fernet(key)
        self.key_file = key_file

    @classmethod
    def open(cls, key_file: Path, *, environ: dict[str, str] | None = None) -> Vault:
        """The key from the environment, else from ``key_file`` (made on the first seal)."""
        env = os.environ if environ is None else environ
        if env.get(ENV_KEY):
            return cls(env[ENV_KEY].encode())
        if key_file.exists():
            return cls(_read_key(key_file), key_file=key_file)
        return cls(key_file=key_file)

    def seal(self, secrets: dict[str, Any]) -> bytes:
        return self._sealing().encrypt(json.dumps(secrets).encode())

    def unseal(self, sealed: bytes) -> dict[str, Any]:
        if self._fernet is None:
            raise ConfigError(
                f"the stored secrets cannot be opened: no key ({ENV_KEY} is not set and "
                f"{self.key_file} does not exist); restore the key file they were sealed with"
            )
        try:
            value = json.loads(self._fernet.decrypt(sealed))
        except InvalidToken:
            raise ConfigError(
                "the stored secrets cannot be opened with this key (a different "
                f"{ENV_KEY} or key file?)"
            ) from None
        return dict(value)

    def _sealing(self) -> Fernet:
        if self._fernet is None:
            assert self.key_file is not None
            _make_key_file(self.key_file)
            self._fernet = _fernet(_read_key(self.key_file))
        return self._fernet


def _fernet(key: bytes) -> Fernet:
    try:
        return Fernet(key)
    except ValueError:
        raise ConfigError(
            "the secret key is not valid (expected 32 url-safe base64 bytes, as "
            "`python -c 'from cryptography.fernet import Fernet; "
            "print(Fernet.generate_key().decode())'` prints)"
        ) from None


def _make_key_file(key_file: Path) -> None:
    """A new key, owner-only (0600); another process that made it first wins."""
    key_file.parent.mkdir(parents=True, exist_ok=True)
    try:
        fd = os.open(key_file, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        return
    with os.fdopen(fd, "wb") as handle:
        handle.write(Fernet.generate_key())


def _read_key(key_file: Path) -> bytes:
    mode = key_file.stat().st_mode
    if mode & (stat.S_IRWXG | stat.S_IRWXO):
        raise ConfigError(
            f"{key_file} can be read by others (mode {stat.filemode(mode)}); "
            f"run `chmod 600 {key_file}`"
        )
    return key_file.read_bytes().strip()


def new_key() -> str:
    return base64.urlsafe_b64encode(os.urandom(32)).decode()
