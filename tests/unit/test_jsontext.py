"""JSON on the hot paths reads and writes what the standard library would."""

from __future__ import annotations

import json

import pytest
from hypothesis import given
from hypothesis import strategies as st

from hrsync import jsontext

JSON_VALUES = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**80), max_value=2**80)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(), inner, max_size=4),
    max_leaves=20,
)


@given(JSON_VALUES)
def test_reads_what_the_standard_library_reads(value: object) -> None:
    text = json.dumps(value)
    assert jsontext.loads(text.encode()) == json.loads(text)
    assert jsontext.loads(jsontext.dumps(value)) == value


@pytest.mark.parametrize(
    "number", ["123456789012345678901234567890", "18446744073709551616", "-9223372036854775809"]
)
def test_an_id_sent_as_a_long_number_is_never_rounded(number: str) -> None:
    body = f'{{"data": [{{"id": {number}}}]}}'.encode()
    assert jsontext.loads(body)["data"][0]["id"] == int(number)


def test_what_orjson_refuses_is_read_and_written_as_the_standard_library_does() -> None:
    assert str(jsontext.loads(b"[NaN]")[0]) == "nan"
    assert jsontext.dumps({1: "a"}) == '{"1":"a"}'
    assert jsontext.dumps([2**70]) == f"[{2**70}]"
    with pytest.raises(ValueError):
        jsontext.loads(b"{not json")


def test_compact_sorted_and_utf8_as_is() -> None:
    assert jsontext.dumps({"b": 1, "a": "é"}, sort_keys=True) == '{"a":"é","b":1}'


def test_a_lone_surrogate_read_from_an_answer_can_still_be_stored() -> None:
    value = jsontext.loads(b'{"name": "bad \\ud800 text"}')
    text = jsontext.dumps(value)
    text.encode()  # storable: no lone surrogate left in the text itself
    assert jsontext.loads(text) == value
