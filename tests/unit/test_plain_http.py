"""The plain-HTTP rule reads the URL as a client would: the scheme in any case, the host as an
address or the name ``localhost`` alone, so ``http://localhost.evil.example`` is not loopback and
``HTTP://`` is still HTTP."""

from __future__ import annotations

from pathlib import Path

import pytest

from hrsync.config import load_settings, refuse_plain_http
from hrsync.errors import ConfigError
from hrsync.urls import is_loopback


@pytest.mark.parametrize(
    "url",
    [
        "http://127.0.0.1:8990",
        "HTTP://127.0.0.1",
        "Http://127.0.0.2/api",  # all of 127.0.0.0/8 is loopback
        "http://127.255.255.254:1",
        "http://[::1]:8990/x",
        "http://[::1]",
        "http://localhost:8990",  # the name RFC 6761 keeps for loopback, as 127.0.0.1 is
        "HTTP://LOCALHOST/api",
        "https://cliq.zoho.com",
        "HTTPS://cliq.zoho.eu/api/v2",
    ],
)
def test_https_anywhere_and_plain_http_to_a_loopback_address_are_allowed(url: str) -> None:
    refuse_plain_http(url, allow_http=True, what="[cliq] api_url")


@pytest.mark.parametrize(
    "url",
    [
        "http://localhost.evil.example",
        "http://localhostx:8990",
        "http://127.0.0.1.evil.example",
        "http://127.0.0.1@evil.example/",  # userinfo, then the real host
        "http://127.0.0.1:80@evil.example/",
        "HTTP://cliq.example",
        "hTtP://cliq.example",
        "http://[::2]",
        "http://10.0.0.1",
        "http://0.0.0.0",
    ],
)
def test_plain_http_to_anything_but_a_loopback_address_is_refused(url: str) -> None:
    with pytest.raises(ConfigError, match="plain HTTP is refused"):
        refuse_plain_http(url, allow_http=True, what="[cliq] api_url")


@pytest.mark.parametrize(
    "url", ["HTTP://127.0.0.1", "http://[::1]", "http://127.0.0.2", "http://localhost:8990"]
)
def test_plain_http_to_loopback_still_needs_allow_http(url: str) -> None:
    with pytest.raises(ConfigError, match="plain HTTP is refused"):
        refuse_plain_http(url, allow_http=False, what="[cliq] api_url")


@pytest.mark.parametrize(
    "url", ["ftp://127.0.0.1/", "cliq.zoho.com", "//cliq.zoho.com", "http://[::1", "http://x:port"]
)
def test_what_is_not_an_http_address_is_refused(url: str) -> None:
    with pytest.raises(ConfigError, match="not an https:// address"):
        refuse_plain_http(url, allow_http=True, what="[cliq] api_url")


def test_the_configuration_file_is_held_to_the_same_rule(tmp_path: Path) -> None:
    config = tmp_path / "hrsync.toml"
    config.write_text(
        '[cliq]\napi_url = "HTTP://cliq.example"\nclient_id = "1"\nclient_secret = "s"\n'
        'refresh_token = "r"\n',
        encoding="utf-8",
    )
    with pytest.raises(ConfigError, match=r"\[cliq\] api_url = 'HTTP://cliq.example': plain"):
        load_settings(config).cliq.check("cliq")
    config.write_text(
        '[cliq]\napi_url = "http://localhost.evil.example"\nclient_id = "1"\n'
        'client_secret = "s"\nrefresh_token = "r"\nallow_http = true\n',
        encoding="utf-8",
    )
    with pytest.raises(ConfigError, match="plain HTTP is refused"):
        load_settings(config).cliq.check("cliq")


@pytest.mark.parametrize(
    ("host", "loopback"),
    [
        ("127.0.0.1", True),
        ("127.1.2.3", True),
        ("::1", True),
        ("[::1]", True),
        ("localhost", True),  # RFC 6761 §6.3: the loopback interface's own name
        ("LocalHost.", True),
        ("localhostx", False),
        ("x.localhost.example", False),
        ("localhost.evil.example", False),
        ("0.0.0.0", False),
        ("::", False),
        ("192.168.1.10", False),
        ("", False),
    ],
)
def test_loopback_is_an_address(host: str, loopback: bool) -> None:
    assert is_loopback(host) is loopback


def test_a_configuration_with_localhost_and_allow_http_is_accepted(tmp_path: Path) -> None:
    config = tmp_path / "hrsync.toml"
    config.write_text(
        '[cliq]\napi_url = "http://localhost:8990"\naccounts_url = "http://localhost:8990"\n'
        'client_id = "1"\nclient_secret = "s"\nrefresh_token = "r"\nallow_http = true\n',
        encoding="utf-8",
    )
    load_settings(config).cliq.check("cliq")
