"""Files only their owner may read: hrsync's database, saved plans. They hold names, emails
and the directory's shape, so they are created 0600 whatever the umask says."""

from __future__ import annotations

import contextlib
import os
import tempfile
from pathlib import Path

OWNER_ONLY = 0o600


def create_owner_only(path: Path) -> None:
    """Create ``path`` empty and owner-only if it does not exist yet; leave it alone if it does."""
    with contextlib.suppress(FileExistsError):
        os.close(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, OWNER_ONLY))


def write_owner_only(path: Path, text: str) -> None:
    """Replace ``path`` with ``text`` in one step; the new file is owner-only."""
    fd, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")  # 0600
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.write(text)
        os.replace(temporary, path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(temporary)
        raise
