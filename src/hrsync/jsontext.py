"""JSON in and out on the hot paths (Zoho's answers, the store's bookmarks, a plan's
changes), through orjson where it gives exactly what the standard library would.

orjson reads a number too large for 64 bits as a float, where the standard library keeps
the integer: an answer holding a number of 20 digits or more (or a negative one of 19) is
read by the standard library, so a Zoho id sent as a number is never rounded. What orjson
refuses (NaN, an integer key, a number past 64 bits to write) goes to the standard
library too.
"""

from __future__ import annotations

import json
from typing import Any

import orjson

# Every digit as "0", so that a run of digits is found with ``in`` (a regular expression
# scanning for one costs more than orjson's whole read).
_DIGITS_AS_ZERO = bytes.maketrans(b"123456789", b"000000000")
_LONG = (b"0" * 20, b"-" + b"0" * 19)


def _long_number(raw: bytes) -> bool:
    """Whether the text holds 20 digits in a row, or a minus and 19 (in a string or not)."""
    digits = raw.translate(_DIGITS_AS_ZERO)
    return any(run in digits for run in _LONG)


def loads(data: bytes | str) -> Any:
    """A JSON text's value, as ``json.loads`` reads it."""
    raw = data.encode() if isinstance(data, str) else data
    if not _long_number(raw):
        try:
            return orjson.loads(raw)
        except orjson.JSONDecodeError:
            pass  # the standard library says what is wrong, or reads what orjson refuses
    return json.loads(raw)


def dumps(value: Any, *, sort_keys: bool = False) -> str:
    """Compact JSON text (no spaces), keys sorted when asked; UTF-8 left as it is. What
    orjson refuses (a lone surrogate from a malformed answer, say) is written with every
    non-ASCII character escaped, so the text can always be stored and sent."""
    try:
        return orjson.dumps(value, option=orjson.OPT_SORT_KEYS if sort_keys else 0).decode()
    except TypeError:
        return json.dumps(value, separators=(",", ":"), sort_keys=sort_keys)
