"""Configuration: one TOML file, every key overridable by an ``HRSYNC_`` variable.

``HRSYNC_CLIQ__CLIENT_SECRET`` overrides ``[cliq] client_secret``. Secrets are ``SecretStr``
and never appear in ``repr``, logs or output.
"""

from __future__ import annotations

import codecs
import difflib
import tomllib
import typing
from pathlib import Path
from typing import Any, Literal

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    PrivateAttr,
    SecretStr,
    ValidationError,
    field_validator,
    model_validator,
)
from pydantic_settings import BaseSettings, PydanticBaseSettingsSource, SettingsConfigDict

from hrsync.config_scope import ScopeConfig
from hrsync.errors import ConfigError
from hrsync.schedule import parse_schedule
from hrsync.sources.rest.spec import RestSpec
from hrsync.store.urls import backend_of, beside, sqlite_file
from hrsync.urls import is_loopback, origin

STORE_DIALECTS = ("sqlite", "postgresql")
KEY_FILE = "hrsync.key"
STORE_EXAMPLE = "sqlite:///hrsync.db or postgresql+psycopg://user@host/db"


class StoreConfig(BaseModel):
    model_config = ConfigDict(extra="forbid")

    url: str = "sqlite:///hrsync.db"  # a relative SQLite path is relative to the config file
    # seals connection secrets (or HRSYNC_SECRET_KEY); beside the store unless set
    key_file: Path = Path(KEY_FILE)
    # where hrsync keeps the key when it is not where an older hrsync made it (load_settings)
    _key_home: Path | None = PrivateAttr(None)

    @property
    def key_home(self) -> Path | None:
        """Beside the store, when the key file is read from an older install's place."""
        return self._key_home

    @field_validator("url")
    @classmethod
    def _a_database_url(cls, value: str) -> str:
        try:
            dialect = backend_of(value)
        except ValueError as problem:
            raise ValueError(f"{problem}; write {STORE_EXAMPLE}") from None
        if dialect not in STORE_DIALECTS:
            raise ValueError(f"{dialect!r} databases are not supported; write {STORE_EXAMPLE}")
        return value


class SourceConfig(BaseModel):
    model_config = ConfigDict(extra="forbid")

    kind: Literal["csv", "xlsx", "zoho_people", "scim", "rest"] = "csv"
    path: Path = Path("employees.csv")
    form: str = "employee"  # zoho_people: the form link name of the employee form
    full_read_hours: float = Field(24.0, gt=0)  # zoho_people: a full read at least this often
    # Canonical field name = header in your file, only where they differ.
    columns: dict[str, str] = Field(default_factory=dict)
    # Your HR system's status words → active | inactive (added to the built-in ones).
    status_map: dict[str, Literal["active", "inactive"]] = Field(default_factory=dict)
    date_format: str = ""  # e.g. "%d-%b-%Y"; ISO 8601 when empty
    delimiter: str = ","
    encoding: str = "utf-8-sig"
    # scim: what a DELETE means — the person left (deactivate), or is no longer hrsync's to
    # manage and is left as Cliq has them (keep)
    on_delete: Literal["deactivate", "keep"] = "deactivate"
    # scim: seconds without a push before the pushed people are synced (at most 6× this
    # after the first push waiting)
    debounce_seconds: float = Field(5.0, ge=0, le=300)
    # scim bulk upload: each upload (or set of uploads, ?upload_set=NAME … &last=true) is the
    # whole population, so those absent from it left ("whole"), or only the people it names
    # changed ("delta")
    uploads: Literal["delta", "whole"] = "delta"
    # scim bulk upload: a custom extension's attribute → the HR field it carries, e.g.
    # "urn:ietf:params:scim:schemas:extension:acme:1.0:User:HireDate" = "hire_date"
    attributes: dict[str, str] = Field(default_factory=dict)
    # rest: a ready configuration of an HR system's API (`hrsync sources presets`), and the
    # [source.rest] keys that complete or override it (sources/rest/spec.py)
    preset: str = ""
    rest: dict[str, Any] = Field(default_factory=dict)
    _spec: RestSpec | None = PrivateAttr(None)

    @model_validator(mode="after")
    def _a_rest_spec(self) -> SourceConfig:
        if self.kind == "rest" or self.preset:
            self._spec = rest_spec(self.preset, self.rest)
        return self

    @property
    def spec(self) -> RestSpec:
        """The REST API a ``rest`` source reads: the preset with ``[source.rest]`` over it."""
        spec = self._spec
        if spec is None:
            spec = rest_spec(self.preset, self.rest)
        return spec

    @field_validator("delimiter")
    @classmethod
    def _one_character(cls, value: str) -> str:
        if len(value) != 1:
            raise ValueError(f'{value!r} is not one character; write e.g. "," or ";" or "\\t"')
        return value

    @field_validator("encoding")
    @classmethod
    def _known_encoding(cls, value: str) -> str:
        try:
            codecs.lookup(value)
        except LookupError:
            raise ValueError(
                f"unknown encoding {value!r}; write a Python codec name such as utf-8, "
                "utf-8-sig, cp1252 or latin-1"
            ) from None
        return value


def rest_spec(preset: str, rest: dict[str, Any]) -> RestSpec:
    """``preset``'s configuration with ``rest`` over it, checked."""
    from hrsync.sources.rest.presets import merged
    from hrsync.sources.rest.presets import preset as preset_keys

    try:
        base = preset_keys(preset) if preset else {}
    except ConfigError as problem:
        raise ValueError(str(problem)) from None
    try:
        return RestSpec.model_validate(merged(base, rest))
    except ValidationError as exc:
        problems = "; ".join(
            f"rest.{'.'.join(str(p) for p in e['loc'])}: "
            f"{str(e['msg']).removeprefix('Value error, ')}"
            for e in exc.errors()
        )
        raise ValueError(problems) from None


class ZohoServiceConfig(BaseModel):
    model_config = ConfigDict(extra="forbid")

    api_url: str = "https://cliq.zoho.com"
    accounts_url: str = "https://accounts.zoho.com"
    client_id: str = ""
    client_secret: SecretStr = SecretStr("")
    refresh_token: SecretStr = SecretStr("")
    allow_http: bool = False
    timeout: float = 30.0
    connection: str = ""  # a connection (`hrsync connections add`) instead of the keys above

    @field_validator("api_url", "accounts_url")
    @classmethod
    def _no_trailing_slash(cls, value: str) -> str:
        return value.rstrip("/")

    def check(self, section: str) -> None:
        """Refuse missing credentials and plain HTTP to anything but loopback."""
        if self.connection:
            return  # the connection holds its hosts and secrets, checked when it was added
        missing = [k for k in ("client_id", "client_secret", "refresh_token") if not _has(self, k)]
        if missing:
            raise ConfigError(
                f"[{section}] is missing {', '.join(missing)} (or HRSYNC_"
                f"{section.upper()}__{missing[0].upper()})"
            )
        for key in ("api_url", "accounts_url"):
            refuse_plain_http(
                getattr(self, key), allow_http=self.allow_http, what=f"[{section}] {key}"
            )


def refuse_plain_http(url: str, *, allow_http: bool, what: str) -> None:
    """Plain HTTP only to a loopback address, and only when allowed (an emulator, a test
    server); anything but http(s) is refused too."""
    where = origin(url)
    if where is not None and where[0] == "https":
        return
    if where is not None and allow_http and is_loopback(where[1]):
        return
    if where is None:
        raise ConfigError(f"{what} = {url!r}: not an https:// address")
    raise ConfigError(
        f"{what} = {url!r}: plain HTTP is refused; use https (http is allowed to a loopback "
        "address only, such as 127.0.0.1, [::1] or localhost, with allow_http = true or "
        "--allow-http)"
    )


class PeopleServiceConfig(ZohoServiceConfig):
    api_url: str = "https://people.zoho.com"


class ConnectServiceConfig(ZohoServiceConfig):
    api_url: str = "https://connect.zoho.com"
    network_id: str = ""  # the network's scopeID

    @property
    def configured(self) -> bool:
        return bool(self.network_id)


def _has(cfg: ZohoServiceConfig, key: str) -> bool:
    value = getattr(cfg, key)
    return bool(value.get_secret_value() if isinstance(value, SecretStr) else value)


class SafetyConfig(BaseModel):
    model_config = ConfigDict(extra="forbid")

    max_deactivation_share: float = Field(0.10, ge=0, le=1)
    deactivation_floor: int = Field(10, ge=0)
    max_blanking_share: float = Field(0.10, ge=0, le=1)
    max_removal_share: float = Field(0.10, ge=0, le=1)
    protected_emails: list[str] = Field(default_factory=list)


class LifecycleConfig(BaseModel):
    """When joiners are invited: on their hire date, or this many days before it."""

    model_config = ConfigDict(extra="forbid")

    invite_days_before: int = Field(0, ge=0, le=365)


class DriftConfig(BaseModel):
    """What an admin may change in Cliq by hand: hrsync writes these fields only when HR's
    value changes, and leaves a hand-made difference alone."""

    model_config = ConfigDict(extra="forbid")

    ignore: list[str] = Field(default_factory=list)  # Cliq field names, e.g. ["mobile"]
    # Cliq's users are read in full at least this often; runs in between read only the users
    # Cliq lists as changed, so hand edits of other fields are found at the next full read.
    full_read_hours: float = Field(24.0, gt=0, le=144)

    @field_validator("ignore")
    @classmethod
    def _known(cls, names: list[str]) -> list[str]:
        from hrsync.sync.drift import IGNORABLE

        for name in names:
            if name not in IGNORABLE:
                near = difflib.get_close_matches(name, IGNORABLE, n=1)
                hint = f"; did you mean {near[0]!r}?" if near else ""
                raise ValueError(
                    f"{name!r} is not a field hrsync writes{hint} (one of {', '.join(IGNORABLE)})"
                )
        return names


class NotifyConfig(BaseModel):
    """Where ``hrsync serve`` says that a run was held, failed or recovered, or that a new
    pending action waits: a Cliq channel, email, or both (nothing when both are empty)."""

    model_config = ConfigDict(extra="forbid")

    cliq_channel: str = ""  # a channel's unique name, posted through the integration's Cliq
    email_to: list[str] = Field(default_factory=list)
    email_from: str = ""
    smtp_host: str = ""
    smtp_port: int = Field(587, ge=1, le=65535)
    smtp_starttls: bool = True
    smtp_user: str = ""
    smtp_password_env: str = ""  # the name of the variable holding the password, not it
    smtp_timeout: float = Field(30.0, gt=0)

    @field_validator("cliq_channel")
    @classmethod
    def _unique_name(cls, value: str) -> str:
        return value.strip().lstrip("#")

    @model_validator(mode="after")
    def _complete_email(self) -> NotifyConfig:
        if self.email_to and not (self.smtp_host and self.email_from):
            raise ValueError("email_to needs smtp_host and email_from as well")
        if self.smtp_user and not self.smtp_starttls and not is_loopback(self.smtp_host):
            raise ValueError(
                "smtp_user without smtp_starttls would send the password in clear: set "
                "smtp_starttls = true (plain SMTP only to a loopback address)"
            )
        return self


class GroupRule(BaseModel):
    """Everyone whose HR attributes match ``when`` belongs to ``name``."""

    model_config = ConfigDict(extra="forbid")

    name: str = Field(min_length=1)  # may use {field} placeholders, e.g. "{department} leads"
    # HR field -> value or list of values (any matches); all fields must match; {} = everyone
    when: dict[str, str | list[str]] = Field(default_factory=dict)


class RoleConfig(BaseModel):
    """A Cliq role hrsync creates and keeps: its type, where its permissions start from, and
    the permission changes to hold it to (the entries of Cliq's permissions update)."""

    model_config = ConfigDict(extra="forbid")

    name: str = Field(min_length=1, max_length=100)
    profile_type: Literal["Members", "Cliq Admin", "Admin"] = "Members"
    clone_of: str = ""  # an existing role's name
    description: str = ""
    # e.g. {module = "organisation_member", action = "attachments", status = "disabled"}
    permissions: list[dict[str, Any]] = Field(default_factory=list)


class RulesConfig(BaseModel):
    """Rule-driven memberships. ``teams_per = ["department"]`` gives a Cliq team per
    department, named by ``team_names`` ("{value}" unless set)."""

    model_config = ConfigDict(extra="forbid")

    teams_per: list[str] = Field(default_factory=list)
    team_names: dict[str, str] = Field(default_factory=dict)  # field -> template
    teams: list[GroupRule] = Field(default_factory=list)
    connect_groups_per: list[str] = Field(default_factory=list)
    connect_group_names: dict[str, str] = Field(default_factory=dict)
    connect_groups: list[GroupRule] = Field(default_factory=list)
    roles: list[GroupRule] = Field(default_factory=list)  # the first rule that matches wins
    # Cliq department / designation by rule instead of the HR value (first match wins)
    departments: list[GroupRule] = Field(default_factory=list)
    designations: list[GroupRule] = Field(default_factory=list)


class SyncConfig(BaseModel):
    """When ``hrsync serve`` runs hrsync.toml's own integration (a stored integration has its
    own schedule, set by ``hrsync integrations create --schedule``)."""

    model_config = ConfigDict(extra="forbid")

    schedule: str = "every 15 min"  # "" runs it by hand only (hrsync sync, HR events)

    @field_validator("schedule")
    @classmethod
    def _a_schedule(cls, value: str) -> str:
        try:
            parse_schedule(value)
        except ConfigError as problem:
            raise ValueError(str(problem)) from None
        return value.strip()


# HR field → Cliq custom user field (unique name or label) for what Cliq has no system field.
DEFAULT_CUSTOM_FIELDS = {
    "work_location": "Work Location",
    "date_of_birth": "Date of Birth",
    "gender": "Gender",
}


class Settings(BaseSettings):
    """The whole configuration."""

    model_config = SettingsConfigDict(
        env_prefix="HRSYNC_", env_nested_delimiter="__", extra="forbid"
    )

    store: StoreConfig = Field(default_factory=StoreConfig)
    source: SourceConfig = Field(default_factory=SourceConfig)
    cliq: ZohoServiceConfig = Field(default_factory=ZohoServiceConfig)
    people: PeopleServiceConfig = Field(default_factory=PeopleServiceConfig)
    connect: ConnectServiceConfig = Field(default_factory=ConnectServiceConfig)
    safety: SafetyConfig = Field(default_factory=SafetyConfig)
    rules: RulesConfig = Field(default_factory=RulesConfig)
    custom_fields: dict[str, str] = Field(default_factory=lambda: dict(DEFAULT_CUSTOM_FIELDS))
    roles: list[RoleConfig] = Field(default_factory=list)
    lifecycle: LifecycleConfig = Field(default_factory=LifecycleConfig)
    drift: DriftConfig = Field(default_factory=DriftConfig)
    notify: NotifyConfig = Field(default_factory=NotifyConfig)
    sync: SyncConfig = Field(default_factory=SyncConfig)
    # The people this configuration manages (include / exclude rules on HR fields); no rule,
    # everyone. The rest are left exactly as Cliq has them (``hrsync.config_scope``).
    scope: ScopeConfig = Field(default_factory=ScopeConfig)

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        # Environment variables win over the file (which arrives as init arguments).
        return (env_settings, init_settings)


def load_settings(path: Path) -> Settings:
    """Read ``path`` (TOML) and the environment; paths in the file are relative to it."""
    data: dict[str, Any] = {}
    if path.exists():
        try:
            data = tomllib.loads(path.read_text(encoding="utf-8"))
        except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
            raise ConfigError(f"{path}: cannot read the configuration: {exc}") from exc
    try:
        settings = Settings(**data)
    except ValidationError as exc:
        raise ConfigError(f"{path}: {describe_problems(exc)}") from None
    if not settings.source.path.is_absolute():
        settings.source.path = path.parent / settings.source.path
    settings.store.url = beside(settings.store.url, path.parent)
    settings.store.key_file = key_file_of(settings.store, path.parent)
    return settings


def key_file_of(store: StoreConfig, folder: Path) -> Path:
    """The key file: as configured (relative to the configuration's folder), else beside the
    store (the SQLite file's folder; the configuration's for a database server). A key an
    older hrsync made in the configuration's folder is read where it is."""
    if "key_file" in store.model_fields_set:
        return store.key_file if store.key_file.is_absolute() else folder / store.key_file
    database = sqlite_file(store.url)
    beside_store = (folder if database is None else database.parent) / KEY_FILE
    older = folder / KEY_FILE
    if beside_store.exists() or not older.exists() or older == beside_store:
        return beside_store
    store._key_home = beside_store
    return older


def describe_problems(exc: ValidationError) -> str:
    """Each problem as ``section.key: message``; an unknown key names the nearest valid one."""
    return "; ".join(_describe(problem) for problem in exc.errors())


def _describe(problem: Any) -> str:
    loc = tuple(problem["loc"])
    where = ".".join(str(p) for p in loc)
    if problem["type"] != "extra_forbidden":
        return f"{where}: {str(problem['msg']).removeprefix('Value error, ')}"
    valid = valid_keys(loc[:-1])
    near = difflib.get_close_matches(str(loc[-1]), valid, n=1, cutoff=0.6)
    hint = f"did you mean {'.'.join([*(str(p) for p in loc[:-1]), near[0]])}?" if near else ""
    known = f"valid keys here: {', '.join(valid)}"
    return f"{where}: unknown key; {hint or known}"


def valid_keys(loc: tuple[Any, ...]) -> list[str]:
    """The keys a configuration table at ``loc`` (e.g. ``("safety",)``) accepts."""
    model: Any = Settings
    for part in loc:
        if isinstance(part, int):
            continue  # an entry of an array of tables: same model
        field = model.model_fields.get(part) if _is_model(model) else None
        if field is None:
            return []
        model = _model_in(field.annotation)
    return sorted(model.model_fields) if _is_model(model) else []


def _model_in(annotation: Any) -> Any:
    """The model inside ``list[Model]`` or ``Model`` (anything else: itself)."""
    if _is_model(annotation):
        return annotation
    for arg in typing.get_args(annotation):
        if _is_model(arg):
            return arg
    return annotation


def _is_model(value: Any) -> bool:
    return isinstance(value, type) and issubclass(value, BaseModel)
