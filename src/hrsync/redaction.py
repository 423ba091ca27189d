"""What hrsync writes down carries no secret and no one's personal data: log lines have tokens,
codes and secrets masked; a recording (``--record``) has them replaced, and every email, personal
name and phone number replaced by a stable pseudonym, keeping the JSON's keys and value types
(the shape of Zoho's answers is what a recording is for). Ids are kept: they are not personal,
and they tie one exchange to the next."""

from __future__ import annotations

import re
from typing import Any

SECRET_IN_TEXT = re.compile(
    r"((?:access_token|refresh_token|client_secret|password|code|oauth_token|oauth_verifier"
    r"|token)=)[^&\s\"']+|((?:Zoho-oauthtoken|Bearer|Basic) )\S+",
    re.IGNORECASE,
)
EMAIL = re.compile(r"[\w.%+'-]+@[\w-]+(?:\.[\w-]+)+")
DIGIT = re.compile(r"\d")
HIDDEN = "<redacted>"

# Keys compared without case, underscores or dots: ``Nick_Name`` is ``nickname``.
SECRET_KEYS = frozenset(
    {
        "accesstoken", "refreshtoken", "idtoken", "token", "clientsecret", "clientid",
        "password", "apikey", "oauthtoken", "oauthtokensecret", "oauthverifier",
    }
)  # fmt: skip
TOKEN_ENDPOINT_KEYS = SECRET_KEYS | {"code"}  # a grant code; elsewhere ``code`` is Zoho's error
NAME_KEYS = frozenset(
    {
        "firstname", "lastname", "displayname", "fullname", "nickname", "middlename",
        "username", "reportingto",
    }
)  # fmt: skip
MASKED_KEYS = frozenset(
    {
        "mobile", "phone", "workphone", "homephone", "mobilephone", "phonenumber",
        "personalmobile", "dateofbirth", "birthday",
    }
)  # fmt: skip
# ``name`` is personal in a person's object: one with an email or user id, or a manager.
PERSON_KEYS = frozenset(["emailid", "email", "mailid", "emailaddress", "userid", "zuid"])
PERSON_PLACES = frozenset(["reportingto", "manager", "lead", "owner", "createdby", "modifiedby"])


def mask_secrets(text: str) -> str:
    """``text`` with every token, grant code, secret and credential replaced by ``***``."""
    return SECRET_IN_TEXT.sub(lambda m: (m.group(1) or m.group(2)) + "***", text)


def _plain(key: str) -> str:
    return re.sub(r"[_.\s-]", "", key).lower()


class Pseudonyms:
    """Redacts JSON for a recording; the same email or name gets the same pseudonym
    throughout (``user1@example.invalid``, ``Name1``)."""

    def __init__(self) -> None:
        self._emails: dict[str, str] = {}
        self._names: dict[str, str] = {}

    def email(self, address: str) -> str:
        key = address.lower()
        if key not in self._emails:
            self._emails[key] = f"user{len(self._emails) + 1}@example.invalid"
        return self._emails[key]

    def name(self, value: str) -> str:
        if not value.strip():
            return value
        if value not in self._names:
            self._names[value] = f"Name{len(self._names) + 1}"
        return self._names[value]

    def text(self, value: str) -> str:
        """A free text: emails and secrets in it replaced."""
        return mask_secrets(EMAIL.sub(lambda m: self.email(m.group(0)), value))

    def json(self, data: Any, *, secrets: frozenset[str] = SECRET_KEYS, place: str = "") -> Any:
        """A redacted copy of ``data``: same keys (emails among them replaced), same types."""
        if isinstance(data, dict):
            person = place in PERSON_PLACES or any(_plain(str(k)) in PERSON_KEYS for k in data)
            return {
                self.text(str(k)): self._field(_plain(str(k)), v, person, secrets)
                for k, v in data.items()
            }
        if isinstance(data, list):
            return [self.json(item, secrets=secrets, place=place) for item in data]
        return self.text(data) if isinstance(data, str) else data

    def _field(self, key: str, value: Any, person: bool, secrets: frozenset[str]) -> Any:
        if isinstance(value, str):
            if key in secrets:
                return HIDDEN
            if key in NAME_KEYS or (person and key == "name"):
                return self.name(value)
            if key in MASKED_KEYS:
                return DIGIT.sub("0", value)
        elif _is_number(value) and (key in secrets or key in MASKED_KEYS):
            return 0
        return self.json(value, secrets=secrets, place=key)


def _is_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)
