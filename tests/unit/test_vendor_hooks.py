"""Each HR system's webhook verified as its vendor documents, against vectors computed outside
hrsync (``openssl dgst -hmac``), and the record ids each delivery shape names
(docs/readings/webhooks.md)."""

from __future__ import annotations

import base64
import datetime as dt
import json

import pytest

from hrsync.service.vendor_signatures import (
    Delivery,
    bamboohr_before_body,
    bamboohr_verdict,
    hibob_before_body,
    hibob_verdict,
    is_hibob_ping,
    personio_before_body,
    record_ids,
)

# printf '%s1700000000' "$BAMBOO" | openssl dgst -sha256 -hmac 'bamboo-private-key'
BAMBOO_KEY = "bamboo-private-key"
BAMBOO = b'{"employees":[{"id":"123","action":"Updated"}]}'
BAMBOO_STAMP = "1700000000"
BAMBOO_BODY_THEN_STAMP = "316aed99502919d7a35599048b715119931eb6742697bdbea948f064c9185024"
BAMBOO_STAMP_DOT_BODY = "1ddb67d49b4eafeea12c5d0ba98aa06a34cbd934ed3e4a7ee8e4b7fe134b078e"

# printf '%s' "$BOB" | openssl dgst -sha512 -hmac 'bob-webhook-secret' (-binary | base64)
BOB_SECRET = "bob-webhook-secret"
BOB = (
    b'{"companyId":636192,"type":"employee.updated","triggeredBy":"3332883804594373380",'
    b'"triggeredAt":"2025-01-08T13:06:26.915906","version":"v2",'
    b'"data":{"employeeId":"3332883854254932743"}}'
)
BOB_BASE64 = (
    "zyWuZOTrX0M8kt0k3gGEiPBUcA/63G/uKFdPvu1GhcBk5oxb7A00pNQwUSraXuZibeO05/Yfv/E4XUlr6iILpg=="
)
BOB_HEX = (
    "cf25ae64e4eb5f433c92dd24de018488f054700ffadc6fee28574fbeed4685c0"
    "64e68c5bec0d34a4d430512ada5ee6626de3b4e7f61fbff1385d496bea220ba6"
)
BOB_AT = dt.datetime(2025, 1, 8, 13, 6, 26, 915906, tzinfo=dt.UTC).timestamp()


def bamboo(signature: str, *, stamp: str = BAMBOO_STAMP, now: float = 1_700_000_010.0) -> Delivery:
    headers = {"x-bamboohr-signature": signature, "x-bamboohr-timestamp": stamp}
    return Delivery(headers, {}, now)


@pytest.mark.parametrize("signature", [BAMBOO_BODY_THEN_STAMP, BAMBOO_STAMP_DOT_BODY])
def test_bamboohr_takes_the_documented_reading_and_the_dotted_one(signature: str) -> None:
    delivery = bamboo(signature.upper())  # hex in either case
    assert bamboohr_before_body(BAMBOO_KEY, delivery) == ""
    verdict = bamboohr_verdict(BAMBOO_KEY, delivery, BAMBOO)
    assert verdict.refused == "" and len(verdict.nonce) == 64
    assert verdict.until == 1_700_000_000 + 300  # remembered until it would be stale anyway


def test_bamboohr_refuses_a_tampered_body_another_key_or_another_timestamp() -> None:
    good = bamboo(BAMBOO_BODY_THEN_STAMP)
    assert bamboohr_verdict(BAMBOO_KEY, good, BAMBOO.replace(b"123", b"124")).refused
    assert bamboohr_verdict("another key", good, BAMBOO).refused == "signature"
    moved = bamboo(BAMBOO_BODY_THEN_STAMP, stamp="1700000001")
    assert bamboohr_verdict(BAMBOO_KEY, moved, BAMBOO).refused == "signature"


def test_a_body_only_signature_is_not_taken_it_would_not_bind_the_time() -> None:
    import hashlib
    import hmac

    body_only = hmac.new(BAMBOO_KEY.encode(), BAMBOO, hashlib.sha256).hexdigest()
    assert bamboohr_verdict(BAMBOO_KEY, bamboo(body_only), BAMBOO).refused == "signature"


SIGNED = {"x-bamboohr-signature": BAMBOO_BODY_THEN_STAMP}


@pytest.mark.parametrize(
    ("headers", "why"),
    [
        ({}, "unsigned"),
        ({"x-bamboohr-signature": "nothex"}, "signature"),
        (SIGNED, "timestamp"),
        (SIGNED | {"x-bamboohr-timestamp": "1e9"}, "timestamp"),
        (SIGNED | {"x-bamboohr-timestamp": "nan"}, "timestamp"),
        (SIGNED | {"x-bamboohr-timestamp": "1699999000"}, "stale"),
        (SIGNED | {"x-bamboohr-timestamp": "1700001000"}, "stale"),
    ],
)
def test_bamboohr_headers_are_judged_before_the_body(headers: dict[str, str], why: str) -> None:
    assert bamboohr_before_body(BAMBOO_KEY, Delivery(headers, {}, 1_700_000_010.0)) == why


def test_an_iso_timestamp_with_its_zone_is_a_time_too() -> None:
    stamp = "2023-11-14T22:13:20Z"  # 1700000000
    delivery = bamboo("0" * 64, stamp=stamp)
    assert bamboohr_before_body(BAMBOO_KEY, delivery) == ""
    assert bamboohr_before_body(BAMBOO_KEY, bamboo("0" * 64, stamp="2023-11-14T22:13:20")) == (
        "timestamp"  # no zone: which time it means is not said
    )


def bob(signature: str, *, now: float = BOB_AT + 2) -> Delivery:
    return Delivery({"bob-signature": signature}, {}, now)


@pytest.mark.parametrize(
    "signature",
    [BOB_BASE64, BOB_BASE64.rstrip("="), BOB_HEX, BOB_HEX.upper(), BOB_BASE64.replace("/", "_")],
)
def test_hibob_takes_hmac_sha512_of_the_body_in_base64_or_hex(signature: str) -> None:
    assert hibob_before_body(BOB_SECRET, bob(signature)) == ""
    verdict = hibob_verdict(BOB_SECRET, bob(signature), BOB)
    assert verdict.refused == "" and len(verdict.nonce) == 64
    # the same signature however written is one nonce: taken once
    assert verdict.nonce == hibob_verdict(BOB_SECRET, bob(BOB_HEX), BOB).nonce


def test_hibob_refuses_a_wrong_signature_and_a_stale_or_future_body() -> None:
    assert hibob_before_body(BOB_SECRET, Delivery({}, {}, BOB_AT)) == "unsigned"
    assert hibob_before_body(BOB_SECRET, bob("c2hvcnQ=")) == "signature"  # not 64 bytes
    assert hibob_verdict("other", bob(BOB_BASE64), BOB).refused == "signature"
    assert hibob_verdict(BOB_SECRET, bob(BOB_BASE64), BOB + b" ").refused == "signature"
    late = bob(BOB_BASE64, now=BOB_AT + 86_400 + 60)
    assert hibob_verdict(BOB_SECRET, late, BOB).refused == "stale"
    early = bob(BOB_BASE64, now=BOB_AT - 3600)
    assert hibob_verdict(BOB_SECRET, early, BOB).refused == "stale"


def test_hibob_pings_are_known() -> None:
    assert is_hibob_ping(b"Ping test") and is_hibob_ping(b'{"text":"Ping test"}')
    assert not is_hibob_ping(BOB)


@pytest.mark.parametrize(
    ("headers", "query", "why"),
    [
        ({"authorization": "personio-token"}, {}, ""),
        ({"authorization": "Bearer personio-token"}, {}, ""),
        ({"x-hrsync-secret": "personio-token"}, {}, ""),
        ({}, {"secret": "personio-token"}, ""),
        ({"authorization": "Bearer personio-toke"}, {}, "secret"),
        ({"authorization": "personio-token2"}, {}, "secret"),
        ({}, {}, "secret"),
    ],
)
def test_personio_sends_its_token_which_is_compared_in_constant_time(
    headers: dict[str, str], query: dict[str, str], why: str
) -> None:
    assert personio_before_body("personio-token", Delivery(headers, query, 0.0)) == why


@pytest.mark.parametrize(
    ("vendor", "body", "ids"),
    [
        ("bamboohr", BAMBOO, ["123"]),
        ("bamboohr", b'{"employees":[{"id":"1"},{"id":2}]}', ["1", 2]),
        (
            "bamboohr",
            json.dumps(
                {"type": "employee.updated", "data": {"employeeId": "67890", "companyId": "1"}}
            ).encode(),
            ["67890"],
        ),
        ("bamboohr", b"type=employee.updated&data%5BemployeeId%5D=67890", ["67890"]),
        ("bamboohr", b"employees%5B0%5D%5Bid%5D=5&employees%5B1%5D%5Bid%5D=6", ["5", "6"]),
        ("hibob", BOB, ["3332883854254932743"]),
        ("hibob", b'{"type":"employee.created","employee":{"id":"42"}}', ["42"]),
        ("personio", b'{"event_name":"person.updated","payload":{"id":"7"}}', ["7"]),
        (
            "personio",
            b'{"event_name":"employment.updated","payload":{"id":"E","person_id":8}}',
            [8],
        ),
        ("personio", b'{"event_name":"employment.updated","payload":{"id":"E"}}', None),
        ("bamboohr", b"not json", None),
        ("hibob", b'{"data":{}}', None),
    ],
)
def test_the_records_a_delivery_names(vendor: str, body: bytes, ids: list[object] | None) -> None:
    assert record_ids(vendor, body) == ids


def test_a_configured_jsonpath_says_where_the_ids_are() -> None:
    body = b'{"changes":[{"who":"9"},{"who":"10"}]}'
    assert record_ids("hibob", body, ids="$.changes[*].who") == ["9", "10"]
    assert record_ids("hibob", body, ids="$[") is None  # not a JSONPath: names nothing


def test_vectors_are_what_openssl_gave() -> None:
    assert base64.b64decode(BOB_BASE64).hex() == BOB_HEX
