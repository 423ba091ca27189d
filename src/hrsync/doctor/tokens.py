"""The token and scope findings of one service, from what its reads showed."""

from __future__ import annotations

from hrsync.doctor.checks import Check, failed, noted, passed
from hrsync.doctor.reads import Reader


def token_check(reader: Reader) -> Check:
    """Whether the refresh token gave an access token that the service accepted."""
    service = reader.service
    name = f"token ({service.section})"
    if reader.token_refused is not None:
        return reader.token_refused.check(name)
    if not reader.held and not reader.missing and not reader.lacking:
        if reader.reach.lost is not None:
            return reader.reach.skipped().check(name)
        return noted(name, "not tried: no read reached Zoho", "run `hrsync doctor` again")
    source = f"connection {service.connection}" if service.connection else "the refresh token"
    return passed(name, f"{source} gives an access token that {service.title} accepts")


def scopes_check(reader: Reader) -> Check:
    """The scopes the reads needed: every one that was missing, named; one that only a read
    hrsync goes on without needed is a ⚠."""
    service = reader.service
    name = f"scopes ({service.section})"
    if reader.token_refused is not None:
        return failed(name, "not checked: no working token", reader.token_refused.remedy)
    if reader.missing:
        scopes = _names(reader.missing | reader.lacking)
        return failed(name, f"missing {scopes} ({_reads(reader)})", service.reauthorise(scopes))
    if reader.lacking:
        scopes = _names(reader.lacking)
        return noted(
            name,
            f"missing {scopes} ({_reads(reader)}); hrsync goes on without it: see the "
            "finding of that read",
            service.reauthorise(scopes),
        )
    if reader.reach.lost is not None:  # some reads were not made: what they need is unknown
        return reader.reach.skipped().check(name)
    return passed(name, f"the reads were accepted with {', '.join(sorted(reader.held))}")


def _names(scopes: dict[str, str]) -> str:
    return ", ".join(sorted(scopes))


def _reads(reader: Reader) -> str:
    lacked = reader.missing | reader.lacking
    return "; ".join(f"{what} needs {scope}" for scope, what in sorted(lacked.items()))
