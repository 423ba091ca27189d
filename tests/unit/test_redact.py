"""Log lines never carry a token, a grant code or a secret, even with --verbose."""

from __future__ import annotations

import logging

from hrsync.cli.main import Redact


def shown(message: str, *args: object) -> str:
    record = logging.LogRecord("httpx", logging.INFO, __file__, 1, message, args or None, None)
    Redact().filter(record)
    return record.getMessage()


def test_tokens_codes_and_secrets_are_masked() -> None:
    assert (
        shown("HTTP Request: %s %s", "GET", "https://api.example/me?access_token=1000.abc&x=1")
        == "HTTP Request: GET https://api.example/me?access_token=***&x=1"
    )
    assert shown("callback ?code=1000.aa.bb&state=s") == "callback ?code=***&state=s"
    assert (
        shown("Authorization: Zoho-oauthtoken 1000.secret") == "Authorization: Zoho-oauthtoken ***"
    )
    assert shown("client_secret=shh password=hunter2") == "client_secret=*** password=***"
    assert shown("nothing to hide here") == "nothing to hide here"
