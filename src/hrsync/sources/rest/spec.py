"""What a ``rest`` source reads, as configuration: ``[source.rest]`` in hrsync.toml (or a
preset's file, which the table overrides key by key).

A read is one request that lists people (``path``, ``params``, ``body``), repeated page by
page (``[source.rest.paging]``), whose records are found by a JSONPath (``records``); each
record may need further requests (``[[source.rest.children]]``), and its fields are found
by JSONPaths relative to it (``[source.rest.fields]``). ``[source.rest.since]`` makes later
reads incremental, where the API can say what changed.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, SecretStr, field_validator, model_validator

from hrsync.model import CANONICAL_FIELDS


class Auth(BaseModel):
    """How each call proves who sends it. The secrets may come from the environment, e.g.
    ``HRSYNC_SOURCE__REST__AUTH__PASSWORD``; a stored connection (``connection``) may hold
    them instead."""

    model_config = ConfigDict(extra="forbid")

    type: Literal[
        "none", "basic", "bearer", "api_key", "token_exchange", "oauth2_client_credentials"
    ] = "none"
    username: str = ""  # basic
    password: SecretStr = SecretStr("")  # basic
    token: SecretStr = SecretStr("")  # bearer, api_key: the key itself
    key_name: str = "Authorization"  # api_key: the header or query parameter carrying it
    # "basic_user": the key is HTTP Basic's user name, with any password (BambooHR)
    key_in: Literal["header", "query", "basic_user"] = "header"
    key_prefix: str = ""  # api_key: written before the key, e.g. "Token "
    # token_exchange / oauth2_client_credentials: where a token is asked for, with what
    token_url: str = ""
    client_id: str = ""
    client_secret: SecretStr = SecretStr("")
    scope: str = ""
    token_body: Literal["json", "form"] = "form"
    token_path: str = "access_token"  # token_exchange: where the token is in the answer
    expires_path: str = "expires_in"  # seconds; absent: taken as an hour
    # token_exchange: the API hands out the next token with each answer, in this header
    # (the one sent is then spent)
    rotating_header: str = ""


class Paging(BaseModel):
    """How one page leads to the next."""

    model_config = ConfigDict(extra="forbid")

    kind: Literal["none", "page", "offset", "cursor", "next_url", "link_header"] = "none"
    param: str = ""  # page: the page number's parameter; offset: the offset's; cursor: the cursor's
    size_param: str = ""  # the page size's parameter
    size: int = Field(100, ge=1, le=10_000)
    start: int = Field(0, ge=0)  # the first page number (page) or offset
    in_body: bool = False  # the parameters go in the JSON body, not the query
    # cursor: JSONPath of the next cursor in the answer, or "header:Name"; next_url: JSONPath
    # of the next page's address; empty/null/absent = the last page
    next: str = ""
    # Totals the answer declares (JSONPath): a read that ends with fewer records than the
    # total, or before the last page, is a failed read, never a smaller population.
    total_records: str = ""
    total_pages: str = ""
    # offset: JSONPath of the page number the answer says it is; where it counts pages where
    # offsets were asked (1 for offset 0), hrsync reads on by page number
    current_page: str = ""


class Since(BaseModel):
    """Incremental reads: ``param`` adds the time of the last read to the same request, or
    ``changed_path`` asks which records changed and the read fetches those by id."""

    model_config = ConfigDict(extra="forbid")

    param: str = ""
    # "iso" (2026-12-06T09:20:11Z), "iso_local" (without zone, UTC), "epoch", "epoch_ms",
    # or a strftime pattern
    format: str = "iso"
    overlap_seconds: float = Field(300.0, ge=0)  # read again this far back: clocks differ
    # False where the API answers a changed-since read in one answer, ignoring paging
    paged: bool = True
    changed_path: str = ""
    changed_params: dict[str, str] = Field(default_factory=dict)  # "{since}" is replaced
    # Keys merged into the read's JSON body for a changed-since read ("{since}" replaced),
    # e.g. {filters = {lastChanged = {value = "{since}"}}}
    body: dict[str, Any] = Field(default_factory=dict)
    changed_ids: str = ""  # JSONPath of the changed records' ids in that answer
    ids_param: str = ""  # the read's parameter naming ids (comma-separated)
    ids_per_call: int = Field(100, ge=1, le=1000)


class Webhook(BaseModel):
    """The HR system's own webhook, received by ``hrsync serve`` at
    ``/hooks/<vendor>/<integration>``: verified as its vendor documents, it only names the
    people whose records to read again (its body is never taken as HR data)."""

    model_config = ConfigDict(extra="forbid")

    kind: Literal["", "bamboohr", "hibob", "personio"] = ""  # how it is signed and shaped
    secret: SecretStr = SecretStr("")  # the key the vendor signs with
    # JSONPath of the record ids the delivery names (the vendor's ids, as ``id`` reads them)
    ids: str = ""


class Child(BaseModel):
    """A further request per record; its answer (or the part ``select`` finds) is put in
    the record under ``name`` for the fields to read."""

    model_config = ConfigDict(extra="forbid")

    name: str = Field(min_length=1)
    path: str = Field(min_length=1)  # "{id}" is the record's id
    method: Literal["GET", "POST"] = "GET"
    params: dict[str, str] = Field(default_factory=dict)
    select: str = "$"


class AlsoRead(BaseModel):
    """Another listing a full read adds, where an API lists some people apart (terminated
    employees, contractors): the main request with this path, and these parameters and body
    keys over its own; paged and checked the same way."""

    model_config = ConfigDict(extra="forbid")

    path: str = ""  # the main request's when empty
    params: dict[str, str] = Field(default_factory=dict)
    body: dict[str, Any] = Field(default_factory=dict)


class Count(BaseModel):
    """A request whose answer declares how many records a full read should find, for an API
    whose read declares no total itself (a report of everyone): a full read that finds
    fewer is a failed read. An answer without the total (the key may not make this call)
    leaves the read to the guards, and says so."""

    model_config = ConfigDict(extra="forbid")

    path: str = Field(min_length=1)
    params: dict[str, str] = Field(default_factory=dict)
    total: str = Field(min_length=1)  # JSONPath of the count in the answer


class RateLimit(BaseModel):
    model_config = ConfigDict(extra="forbid")

    per_minute: int = Field(60, ge=1, le=100_000)
    per_second: float = Field(0.0, ge=0)  # a second limit besides (0: none); calls spaced
    lock_seconds: float = Field(60.0, ge=0)  # waited when throttled without Retry-After


class RestSpec(BaseModel):
    model_config = ConfigDict(extra="forbid")

    title: str = ""  # what the API is ("BambooHR"), for messages
    about: str = ""  # a preset's one line: what it reads, and the vendor's document
    base_url: str = ""  # "{name}" placeholders are filled from ``vars``
    connection: str = ""  # a stored connection holding the auth, instead of ``auth``
    auth: Auth = Field(default_factory=Auth)
    vars: dict[str, str] = Field(default_factory=dict)
    allow_http: bool = False  # plain HTTP to a loopback address (an emulator)
    timeout: float = Field(30.0, gt=0)
    rate_limit: RateLimit = Field(default_factory=RateLimit)
    method: Literal["GET", "POST"] = "GET"
    path: str = ""
    params: dict[str, str] = Field(default_factory=dict)
    headers: dict[str, str] = Field(default_factory=lambda: {"Accept": "application/json"})
    body: dict[str, Any] | None = None  # a JSON body (POST)
    records: str = "$[*]"  # JSONPath of the records in one answer
    id: str | list[str] = "id"  # JSONPath(s) of a record's id in the HR system (its own)
    paging: Paging = Field(default_factory=Paging)
    also: list[AlsoRead] = Field(default_factory=list)  # more listings of a full read
    count: Count | None = None
    since: Since | None = None
    full_read_days: float = Field(7.0, gt=0)  # a full read at least this often
    children: list[Child] = Field(default_factory=list)
    # hrsync field (canonical, or any other name carried for [rules] and custom fields) →
    # JSONPath in the record, or a list of them: the first that the record has
    fields: dict[str, str | list[str]] = Field(default_factory=dict)
    # What a field a record leaves out means: unknown (left as Cliq has it; a lifecycle field
    # holds the person), or blank (an API that leaves empty fields out). A field no record
    # has is a lost column either way.
    left_out: Literal["unknown", "blank"] = "unknown"
    # Dates that are not ISO 8601, as strptime reads them (e.g. "%d/%m/%Y")
    date_format: str = ""
    # What the manager field holds: the manager's record id, employee id or email.
    manager_ref: Literal["record_id", "employee_id", "email"] = "record_id"
    # Per field, the HR system's words → hrsync's ("status": {"Active" = "active"}).
    values: dict[str, dict[str, str]] = Field(default_factory=dict)
    # Permissions/scopes the key needs, for `hrsync doctor` to name.
    needs: list[str] = Field(default_factory=list)
    webhook: Webhook = Field(default_factory=Webhook)

    @field_validator("base_url")
    @classmethod
    def _no_trailing_slash(cls, value: str) -> str:
        return value.strip().rstrip("/")

    @model_validator(mode="after")
    def _complete_since(self) -> RestSpec:
        since = self.since
        if since is not None and since.changed_path and not (since.changed_ids and since.ids_param):
            raise ValueError("since.changed_path needs since.changed_ids and since.ids_param")
        return self

    def filled(self, text: str) -> str:
        """``text`` with its ``{name}`` placeholders filled from ``vars``."""
        for name, value in self.vars.items():
            text = text.replace("{" + name + "}", value)
        return text

    def missing(self) -> list[str]:
        """What a read still needs, as the keys to set."""
        needs = [k for k in ("path",) if not getattr(self, k)]
        if not self.base_url and not self.connection:  # a connection may give it
            needs.insert(0, "base_url")
        for key in ("employee_id", "email"):
            if key not in self.fields:
                needs.append(f"fields.{key}")
        for name in _placeholders(self.base_url + self.path):
            if name not in self.vars and name != "id":
                needs.append(f"vars.{name}")
        return needs


KNOWN_FIELDS = frozenset(CANONICAL_FIELDS)


def _placeholders(text: str) -> list[str]:
    import string

    return [name for _, name, _, _ in string.Formatter().parse(text) if name]


_SECRETS_OF = {
    "basic": ("username",),
    "bearer": ("token",),
    "api_key": ("token",),
    "token_exchange": ("client_id", "client_secret"),
    "oauth2_client_credentials": ("client_id", "client_secret"),
}


def pending(spec: RestSpec, preset: str = "") -> list[str]:
    """What a rest source still needs before it can read, as an admin would fix it."""
    named = f" (preset {preset})" if preset else ""
    found = [f"[source.rest] needs {key}{named}" for key in spec.missing()]
    if spec.connection:
        return found
    for key in _SECRETS_OF.get(spec.auth.type, ()):
        value = getattr(spec.auth, key)
        if not (value.get_secret_value() if isinstance(value, SecretStr) else value):
            found.append(
                f"[source.rest.auth] has no {key} (or HRSYNC_SOURCE__REST__AUTH__"
                f"{key.upper()}, or a connection)"
            )
    return found
