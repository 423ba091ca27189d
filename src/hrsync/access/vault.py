"""Secrets at rest: client secrets, refresh tokens and passwords are sealed with a key that
lives outside the database.

The key comes from ``HRSYNC_SECRET_KEY`` or from a key file created on first use with
owner-only permissions (0600). Without the key, the database holds nothing usable.
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
    def __init__(self, key: bytes) -> None:
        try:
            self._fernet = Fernet(key)
        except ValueError:
            raise ConfigError(
                "the secret key is not valid (expected 32 url-safe base64 bytes, as "
                "`python -c 'from cryptography.fernet import Fernet; "
                "print(Fernet.generate_key().decode())'` prints)"
            ) from None

    @classmethod
    def open(cls, key_file: Path, *, environ: dict[str, str] | None = None) -> Vault:
        """The key from the environment, else from ``key_file`` (created if missing)."""
        env = os.environ if environ is None else environ
        if env.get(ENV_KEY):
            return cls(env[ENV_KEY].encode())
        if not key_file.exists():
            key_file.parent.mkdir(parents=True, exist_ok=True)
            fd = os.open(key_file, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            with os.fdopen(fd, "wb") as handle:
                handle.write(Fernet.generate_key())
        mode = key_file.stat().st_mode
        if mode & (stat.S_IRWXG | stat.S_IRWXO):
            raise ConfigError(
                f"{key_file} can be read by others (mode {stat.filemode(mode)}); "
                f"run `chmod 600 {key_file}`"
            )
        return cls(key_file.read_bytes().strip())

    def seal(self, secrets: dict[str, Any]) -> bytes:
        return self._fernet.encrypt(json.dumps(secrets).encode())

    def unseal(self, sealed: bytes) -> dict[str, Any]:
        try:
            value = json.loads(self._fernet.decrypt(sealed))
        except InvalidToken:
            raise ConfigError(
                "the stored secrets cannot be opened with this key (a different "
                f"{ENV_KEY} or key file?)"
            ) from None
        return dict(value)


def new_key() -> str:
    return base64.urlsafe_b64encode(os.urandom(32)).decode()
