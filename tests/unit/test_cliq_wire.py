"""A listed Cliq user converted directly is the user the wire model gives, whatever the
entry holds: same ``CurrentUser``, or the same refusal."""

from __future__ import annotations

from typing import Any

import pydantic
from hypothesis import given
from hypothesis import strategies as st

from hrsync.api.cliq import CliqUser
from hrsync.targets.cliq.wire import current_user, current_user_of

ODD = (
    st.none()
    | st.booleans()
    | st.integers(-5, 10**19)
    | st.floats(allow_nan=False)
    | st.lists(st.text(max_size=3), max_size=2)
)
TEXT = st.text(max_size=8)
VALUE = TEXT | ODD
REF = st.none() | st.fixed_dictionaries(
    {"id": st.text(max_size=5) | st.integers(0, 10**18)},
    optional={"name": TEXT, "extra": VALUE},
)
ODD_REF = st.fixed_dictionaries({"id": ODD}, optional={"name": TEXT | ODD})
# A custom value: text, a number, an odd value, or a drop-down as an option {id, name}.
OPTION = st.fixed_dictionaries({"id": TEXT | ODD}, optional={"name": TEXT}) | st.dictionaries(
    st.sampled_from(["name", "value"]), TEXT
)
CUSTOM = VALUE | OPTION
NAMES = [
    *("email_id", "first_name", "last_name", "display_name", "full_name", "name", "mobile"),
    *("phone", "extension", "work_location", "status", "zuid", "employee_id"),
]


@st.composite
def listed_users(draw: st.DrawFn) -> Any:
    """A well-formed listed user, then (often) one field of another type or left out."""
    item: dict[str, Any] = {"id": draw(TEXT | st.integers(0, 10**18)), "email_id": draw(TEXT)}
    for name in NAMES[1:]:
        if draw(st.booleans()):
            item[name] = draw(TEXT)
    for name in ("department", "designation", "reportingto"):
        if draw(st.booleans()):
            item[name] = draw(REF)
    item.update(draw(st.dictionaries(st.sampled_from(["custom_a", "x_y", "c"]), CUSTOM)))
    if draw(st.booleans()):  # custom fields nested, as some answers carry them
        nested = st.dictionaries(st.sampled_from(["custom_a", "gender", "id", "status"]), CUSTOM)
        item["custom_attributes"] = draw(nested | CUSTOM)
    if draw(st.booleans()):
        odd = draw(st.sampled_from(["id", *NAMES, "department", "designation", "reportingto"]))
        if draw(st.booleans()):
            item[odd] = draw(ODD | REF | ODD_REF)
        else:
            item.pop(odd, None)
    return item


def _through_the_model(item: Any) -> Any:
    try:
        return current_user(CliqUser.model_validate(item))
    except pydantic.ValidationError:
        return "refused"


def _direct(item: Any) -> Any:
    try:
        return current_user_of(item)
    except pydantic.ValidationError:
        return "refused"


@given(listed_users())
def test_direct_conversion_is_the_wire_models(item: dict[str, Any]) -> None:
    assert _direct(item) == _through_the_model(item)


def test_a_typical_listed_user() -> None:
    item = {
        "id": 55001,
        "email_id": "ana@example.com",
        "first_name": "Ana",
        "employee_id": "E1",
        "status": "active",
        "department": {"id": "9", "name": "Sales"},
        "reportingto": {"id": 77, "name": "Bo"},
        "custom_shoe": "42",
    }
    user = current_user_of(item)
    assert (user.zuid, user.department, user.manager_zuid) == ("55001", "Sales", "77")
    assert user.custom == {"custom_shoe": "42"} and user.fields["first_name"] == "Ana"
    assert user == _through_the_model(item)


def test_custom_values_nested_or_as_options_are_read_as_written() -> None:
    item = {
        "id": "7",
        "email_id": "bo@example.com",
        "gender": {"id": "190", "name": "Female"},
        "office_location": "Austin",
        "custom_attributes": {"date_of_birth": 86400000, "shoe": {"id": 42, "name": "42"}},
    }
    expected = {"gender": "190", "office_location": "Austin", "date_of_birth": "86400000"}
    assert current_user_of(item).custom == {**expected, "shoe": "42"}
    assert current_user_of(item) == _through_the_model(item)
    item["custom_attributes"] = {"office_location": "Berlin"}  # the nested value wins
    assert current_user_of(item).custom["office_location"] == "Berlin"
    assert current_user_of(item) == _through_the_model(item)
