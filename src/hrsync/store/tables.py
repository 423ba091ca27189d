"""The schema. Change it only together with a migration in ``migrations/versions``."""

from __future__ import annotations

from sqlalchemy import (
    Boolean,
    Float,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column


class Base(DeclarativeBase):
    pass


class Link(Base):
    """An employee (HR id) and the Cliq user hrsync manages for them."""

    __tablename__ = "links"
    __table_args__ = (UniqueConstraint("integration", "employee_id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    integration: Mapped[str] = mapped_column(String(100), default="default")
    employee_id: Mapped[str] = mapped_column(String(200))
    zuid: Mapped[str] = mapped_column(String(64))
    email: Mapped[str] = mapped_column(String(320), default="")
    origin: Mapped[str] = mapped_column(String(20))  # invited | adopted
    created_at: Mapped[float] = mapped_column(Float)
    updated_at: Mapped[float] = mapped_column(Float)


class Run(Base):
    """One plan or apply."""

    __tablename__ = "runs"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    integration: Mapped[str] = mapped_column(String(100), default="default")
    mode: Mapped[str] = mapped_column(String(10))  # plan | apply
    # running | succeeded | partial | failed | held | refused | interrupted
    status: Mapped[str] = mapped_column(String(20))
    started_at: Mapped[float] = mapped_column(Float)
    finished_at: Mapped[float | None] = mapped_column(Float, nullable=True)
    summary: Mapped[str] = mapped_column(Text, default="{}")
    owner: Mapped[str] = mapped_column(String(300), default="")  # host:pid of the process
    heartbeat_at: Mapped[float | None] = mapped_column(Float, nullable=True)


class JournalEntry(Base):
    """One change of one run: intended before it is sent, then sent, then confirmed or failed."""

    __tablename__ = "journal"
    __table_args__ = (Index("ix_journal_run_key", "run_id", "change_key"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    run_id: Mapped[int] = mapped_column(ForeignKey("runs.id"), index=True)
    change_key: Mapped[str] = mapped_column(String(300), index=True)
    kind: Mapped[str] = mapped_column(String(40))
    summary: Mapped[str] = mapped_column(Text)
    payload: Mapped[str] = mapped_column(Text)
    state: Mapped[str] = mapped_column(String(20), index=True)
    error: Mapped[str] = mapped_column(Text, default="")
    updated_at: Mapped[float] = mapped_column(Float)


class ApiCall(Base):
    """A call that reached Zoho, kept for a while so the next process paces itself too."""

    __tablename__ = "api_calls"
    __table_args__ = (Index("ix_api_calls_scope_at", "scope", "at"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    scope: Mapped[str] = mapped_column(String(300))  # the Zoho API host the limits apply to
    endpoint: Mapped[str] = mapped_column(String(60))  # a limit group; "!locked" marks a lock
    at: Mapped[float] = mapped_column(Float)


class Bookmark(Base):
    """Where a source's last read ended (and what it had read), per integration and name."""

    __tablename__ = "bookmarks"
    __table_args__ = (UniqueConstraint("integration", "name"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    integration: Mapped[str] = mapped_column(String(100), default="default")
    name: Mapped[str] = mapped_column(String(300))
    value: Mapped[str] = mapped_column(Text)  # JSON
    updated_at: Mapped[float] = mapped_column(Float)


class Membership(Base):
    """A membership hrsync created (only these are ever taken away again)."""

    __tablename__ = "memberships"
    __table_args__ = (
        UniqueConstraint("integration", "kind", "group_key", "employee_id"),
        Index("ix_memberships_person", "integration", "kind", "employee_id"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    integration: Mapped[str] = mapped_column(String(100), default="default")
    kind: Mapped[str] = mapped_column(String(20))  # team | connect_group | role
    group_key: Mapped[str] = mapped_column(String(300))  # lower-cased name
    employee_id: Mapped[str] = mapped_column(String(200))
    created_at: Mapped[float] = mapped_column(Float)


class Connection(Base):
    """A named, authenticated link to a service. Secrets are sealed by the vault."""

    __tablename__ = "connections"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(100), unique=True)
    service: Mapped[str] = mapped_column(String(100))  # zoho_cliq | … | custom
    data_centre: Mapped[str] = mapped_column(String(4), default="")
    settings: Mapped[str] = mapped_column(Text, default="{}")  # JSON, nothing secret
    secrets: Mapped[bytes] = mapped_column(LargeBinary)  # sealed JSON
    status: Mapped[str] = mapped_column(String(20))  # created | authorised | revoked
    created_at: Mapped[float] = mapped_column(Float)
    updated_at: Mapped[float] = mapped_column(Float)


class AccessToken(Base):
    """The one cached access token of a connection, shared by every process."""

    __tablename__ = "access_tokens"

    connection_id: Mapped[int] = mapped_column(
        ForeignKey("connections.id", ondelete="CASCADE"), primary_key=True
    )
    sealed: Mapped[bytes | None] = mapped_column(LargeBinary, nullable=True)
    expires_at: Mapped[float] = mapped_column(Float, default=0.0)
    denied_until: Mapped[float] = mapped_column(Float, default=0.0)  # after "Access Denied"
    refreshes: Mapped[int] = mapped_column(Integer, default=0)
    turn: Mapped[int] = mapped_column(Integer, default=0)  # bumped to take the row's lock


class Integration(Base):
    """A source tied to a target, with its rules and schedule (hrsync.toml's shape, as JSON)."""

    __tablename__ = "integrations"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(100), unique=True)
    config: Mapped[str] = mapped_column(Text)
    schedule: Mapped[str] = mapped_column(String(100), default="")
    status: Mapped[str] = mapped_column(String(20))  # draft | enabled | deactivated
    created_at: Mapped[float] = mapped_column(Float)
    updated_at: Mapped[float] = mapped_column(Float)


class ConfigToken(Base):
    """The one cached access token of a client id and refresh token given in hrsync.toml (or
    the environment), shared by every process; sealed with a key made from those secrets."""

    __tablename__ = "config_tokens"

    key: Mapped[str] = mapped_column(String(64), primary_key=True)  # hash of url, id, token
    sealed: Mapped[bytes | None] = mapped_column(LargeBinary, nullable=True)
    expires_at: Mapped[float] = mapped_column(Float, default=0.0)
    denied_until: Mapped[float] = mapped_column(Float, default=0.0)  # after "Access Denied"
    refreshes: Mapped[int] = mapped_column(Integer, default=0)


class Lease(Base):
    """Which ``hrsync serve`` worker runs an integration now, and until when unless it renews
    the lease; a free lease has no owner."""

    __tablename__ = "leases"

    integration: Mapped[str] = mapped_column(String(100), primary_key=True)
    owner: Mapped[str] = mapped_column(String(300), default="")  # host:pid of the worker
    expires_at: Mapped[float] = mapped_column(Float, default=0.0)
    renewed_at: Mapped[float] = mapped_column(Float, default=0.0)


class PassphraseTry(Base):
    """Wrong admin passphrases in a row at one door: ``web`` (the admin page) or ``cli``."""

    __tablename__ = "passphrase_tries"

    door: Mapped[str] = mapped_column(String(20), primary_key=True)
    wrong: Mapped[int] = mapped_column(Integer, default=0)
    at: Mapped[float] = mapped_column(Float, default=0.0)  # when the last wrong one came


class WebSession(Base):
    """A session of the admin page: its token's hash, its forms' CSRF token, and the note
    the page shows next (what the last form did)."""

    __tablename__ = "web_sessions"

    key: Mapped[str] = mapped_column(String(64), primary_key=True)  # sha256 of the token
    csrf: Mapped[str] = mapped_column(String(64))
    started: Mapped[float] = mapped_column(Float)
    seen: Mapped[float] = mapped_column(Float)
    proof: Mapped[float] = mapped_column(Float)  # when the passphrase was last given in it
    note: Mapped[str] = mapped_column(Text, default="")


class WebConsent(Base):
    """An OAuth consent started from the admin page, until Zoho sends the admin back."""

    __tablename__ = "web_consents"

    key: Mapped[str] = mapped_column(String(64), primary_key=True)  # sha256 of the state
    connection: Mapped[str] = mapped_column(String(100))
    session: Mapped[str] = mapped_column(String(64))  # the session it was started in (its key)
    redirect_uri: Mapped[str] = mapped_column(Text)
    at: Mapped[float] = mapped_column(Float)


class WebhookSignature(Base):
    """A signed webhook call taken: its signature is refused again until it would be stale."""

    __tablename__ = "webhook_signatures"
    __table_args__ = (Index("ix_webhook_signatures_expires_at", "expires_at"),)

    integration: Mapped[str] = mapped_column(String(100), primary_key=True)
    signature: Mapped[str] = mapped_column(String(64), primary_key=True)  # hex HMAC-SHA256
    expires_at: Mapped[float] = mapped_column(Float)


class HrEvent(Base):
    """One person named by an HR event (a webhook call, a "sync now"), kept until a run has
    settled it: ``queued`` (waiting, or waiting again after a failure), ``done`` (their
    changes were confirmed, or none were needed), ``refused`` (no such person), ``held`` (a
    guard held the run: approving it applies them) or ``failed`` (given up after retries)."""

    __tablename__ = "hr_events"
    __table_args__ = (
        Index("ix_hr_events_state_next", "state", "next_try_at"),
        Index("ix_hr_events_integration_state", "integration", "state"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)  # the order of arrival
    integration: Mapped[str] = mapped_column(String(100))
    employee_id: Mapped[str] = mapped_column(String(100))
    received_at: Mapped[float] = mapped_column(Float)
    state: Mapped[str] = mapped_column(String(10), default="queued")
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_try_at: Mapped[float] = mapped_column(Float)
    settled_at: Mapped[float | None] = mapped_column(Float, nullable=True)
    run_id: Mapped[int | None] = mapped_column(Integer, nullable=True)  # the run that last had it
    reason: Mapped[str] = mapped_column(Text, default="")  # why it failed, was refused or held
    sender: Mapped[str] = mapped_column(String(20), default="webhook")  # webhook | page


class ScimResource(Base):
    """A user or group an identity provider pushed over SCIM, as it was pushed: the body is
    the resource's JSON, the other columns what is looked up or kept unique. A deleted user
    stays, its unique keys cleared, as a leaver until the same person is pushed again."""

    __tablename__ = "scim_resources"
    __table_args__ = (
        UniqueConstraint("integration", "resource_type", "name_key"),
        UniqueConstraint("integration", "hr_key"),
        Index("ix_scim_resources_external", "integration", "resource_type", "external_id"),
        Index("ix_scim_resources_number", "integration", "employee_number"),
        Index("ix_scim_resources_hr_id", "integration", "hr_id"),
    )

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    integration: Mapped[str] = mapped_column(String(100))
    resource_type: Mapped[str] = mapped_column(String(20))  # User | Group
    name_key: Mapped[str | None] = mapped_column(String(400), nullable=True)  # userName, compared
    hr_key: Mapped[str | None] = mapped_column(String(100), nullable=True)  # hr_id while live
    hr_id: Mapped[str] = mapped_column(String(100), default="")  # the person's HR id
    external_id: Mapped[str | None] = mapped_column(String(400), nullable=True)
    employee_number: Mapped[str | None] = mapped_column(String(100), nullable=True)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    body: Mapped[str] = mapped_column(Text)
    created_at: Mapped[float] = mapped_column(Float)
    modified_at: Mapped[float] = mapped_column(Float)
    version: Mapped[int] = mapped_column(Integer, default=1)
    deleted_at: Mapped[float | None] = mapped_column(Float, nullable=True)
    last_push: Mapped[str] = mapped_column(Text, default="")  # JSON: when, what, which event
    event_id: Mapped[int | None] = mapped_column(Integer, nullable=True)


class ScimToken(Base):
    """A SCIM source's bearer token, kept only as its SHA-256."""

    __tablename__ = "scim_tokens"

    sha256: Mapped[str] = mapped_column(String(64), primary_key=True)
    integration: Mapped[str] = mapped_column(String(100), index=True)
    made_at: Mapped[float] = mapped_column(Float)


class ScimUpload(Base):
    """A bulk upload (Entra's API-driven provisioning): what became of each of its records
    (stored, with the HR event it queued, or refused with why), read back at its Location."""

    __tablename__ = "scim_uploads"
    __table_args__ = (Index("ix_scim_uploads_integration", "integration", "upload_set"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    integration: Mapped[str] = mapped_column(String(100))
    received_at: Mapped[float] = mapped_column(Float)
    records: Mapped[str] = mapped_column(Text)  # JSON: a list, one object per record
    without_active: Mapped[int] = mapped_column(Integer, default=0)
    upload_set: Mapped[str] = mapped_column(String(200), default="")  # whole populations
    absent: Mapped[str] = mapped_column(Text, default="[]")  # HR ids taken to have left
