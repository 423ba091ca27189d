"""One line for every failure an operator can fix: what went wrong, then what to do.

The command line shows this line instead of a traceback (``--debug`` shows the trace too);
``hrsync config check`` reports the same lines. The table is read top to bottom: the first
class that matches wins.
"""

from __future__ import annotations

from collections.abc import Callable

import httpx
from pydantic import ValidationError

from hrsync.config import describe_problems
from hrsync.errors import HrsyncError, Unreachable
from hrsync.store.failures import BAD_URL, UNREACHABLE, driver_error

STORE_URLS = "sqlite:///hrsync.db or postgresql+psycopg://user@host/db"


def describe_failure(problem: BaseException) -> str:
    """The cause and the remedy, in one line."""
    for kinds, describe in REMEDIES:
        if isinstance(problem, kinds):
            return describe(problem)
    return (
        f"unexpected {type(problem).__name__}: {_first_line(problem)} (run again with --debug "
        "for the trace, and report it)"
    )


def _first_line(problem: BaseException) -> str:
    text = str(problem).strip()
    return text.splitlines()[0] if text else type(problem).__name__


def _hrsync(problem: BaseException) -> str:
    return str(problem)


def _invalid(problem: BaseException) -> str:
    assert isinstance(problem, ValidationError)
    return f"the configuration is not valid: {describe_problems(problem)}"


def _store_url(problem: BaseException) -> str:
    return (
        f"the store URL cannot be used ({_first_line(problem)}): write [store] url as {STORE_URLS}"
    )


def _store_unreachable(problem: BaseException) -> str:
    cause = driver_error(problem)
    return (
        f"the store database cannot be opened ({_first_line(cause)}): check [store] url, that "
        "the database server is running and reachable, and its user and password"
    )


def _driver_missing(problem: BaseException) -> str:
    name = problem.name if isinstance(problem, ImportError) else ""
    if name and name.startswith("psycopg"):
        return "PostgreSQL needs its driver: pip install 'hrsync[postgres]'"
    return f"{_first_line(problem)}: reinstall hrsync (pip install hrsync)"


def _unreachable(problem: BaseException) -> str:
    where = "the server"
    if isinstance(problem, httpx.TransportError):
        try:
            url = problem.request.url
            where = f"{url.scheme}://{url.netloc.decode('ascii', 'replace')}"
        except RuntimeError:  # raised before a request existed
            pass
    return (
        f"cannot reach {where} ({_first_line(problem)}): check the host name, the network "
        "and any proxy (HTTPS_PROXY)"
    )


def _zoho_unreachable(problem: BaseException) -> str:
    assert isinstance(problem, Unreachable)
    try:
        host = httpx.URL(problem.url).netloc.decode("ascii", "replace") or "the host"
    except (httpx.InvalidURL, TypeError):
        host = problem.url or "the host"
    via = problem.via
    whose = f" for {via.whose}" if via else ""
    hosts = f", and {via.hosts}" if via else ""
    return (
        f"cannot reach {host}{whose} ({_first_line(problem)}): check that the host is up and "
        f"reachable from here (network, firewall, HTTPS_PROXY){hosts}; then run again"
    )


def _file(problem: BaseException) -> str:
    if isinstance(problem, OSError) and problem.filename:
        return f"{problem.filename}: {problem.strerror}: check the path and its permissions"
    return f"{_first_line(problem)}: check the path and its permissions"


REMEDIES: list[tuple[type[BaseException] | tuple[type[BaseException], ...], Callable[..., str]]] = [
    (Unreachable, _zoho_unreachable),
    (HrsyncError, _hrsync),
    (ValidationError, _invalid),  # e.g. an integration saved before a key was refused
    (BAD_URL, _store_url),
    (UNREACHABLE, _store_unreachable),
    (ImportError, _driver_missing),
    (httpx.TransportError, _unreachable),
    (OSError, _file),
]
