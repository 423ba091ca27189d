"""Who may call the emulated Personio, and how often: API credentials, bearer tokens (stable
for 24 hours, or one-time and rotated under ``personio-rotating-token``), Personio's error
envelope, its rate limits and the injected faults (docs/readings/personio.md)."""

from __future__ import annotations

import base64
import hashlib
import json
import math
import secrets
from collections import defaultdict, deque
from dataclasses import asdict, dataclass, field
from typing import Any
from urllib.parse import parse_qsl

from hrsync.emulator.core import EmuRequest, EmuResponse, require

TOKEN_LIFETIME = 86400.0  # the auth document's expires_in, and "stable for 24 hours"
READ_SCOPE = "employees:read"
# The document's examples (components.examples): no token, and a token it does not accept.
NOT_PROVIDED = "Authorization is not provided"
NOT_VALID = "Provided authorization is not valid"
NOT_FOUND = "Es ist ein Problem aufgetreten "  # sic: the document's 404 example, space and all
FAULT_MODES = ("truncate", "error_500", "throttle", "expire_tokens")


class PersonioError(Exception):
    """Raised inside the Personio handlers; answered in Personio's error envelope."""

    def __init__(self, status: int, message: str, *, headers: dict[str, str] | None = None):
        super().__init__(status, message)
        self.status, self.message = status, message
        self.headers = headers or {}

    def response(self) -> EmuResponse:
        error = {"code": self.status, "message": self.message}
        return EmuResponse(self.status, {"success": False, "error": error}, dict(self.headers))


@dataclass
class Credentials:
    """An API credential: its secret, the scopes it grants, and the attributes it may read
    (None: every attribute; Personio's credentials whitelist attributes one by one)."""

    client_id: str
    client_secret: str
    scopes: tuple[str, ...] = (READ_SCOPE,)
    attributes: tuple[str, ...] | None = None


@dataclass
class Token:
    value: str
    client_id: str
    expires_at: float
    one_time: bool = False


class Access:
    """Issues tokens at ``POST /v1/auth`` and checks the bearer token of every other call."""

    def __init__(self, seed: str) -> None:
        digest = hashlib.sha256(f"personio:{seed}".encode()).hexdigest()
        default = Credentials(f"papi-{digest[:8]}-{digest[8:12]}-{digest[12:16]}", digest[16:48])
        self.credentials: dict[str, Credentials] = {default.client_id: default}
        self.tokens: dict[str, Token] = {}
        self.issued = 0
        self.refused = 0

    def authenticate(self, req: EmuRequest, now: float, *, rotating: bool) -> EmuResponse:
        """``POST /v1/auth``: client_id and client_secret in a JSON or form body."""
        given = _credentials_in(req)
        known = self.credentials.get(given.get("client_id", ""))
        if known is None or not secrets.compare_digest(
            known.client_secret, given.get("client_secret", "")
        ):
            self.refused += 1
            raise PersonioError(403, NOT_VALID)
        token = self._token_for(known, now, rotating=rotating)
        data = {
            "token": token.value,
            "expires_in": int(token.expires_at - now),
            "scope": " ".join(known.scopes),
        }
        return EmuResponse(200, {"success": True, "data": data})

    def _token_for(self, known: Credentials, now: float, *, rotating: bool) -> Token:
        """The credential's live stable token (the same one for 24 hours), or a new one."""
        if not rotating:
            for token in self.tokens.values():
                live = token.expires_at > now and not token.one_time
                if live and token.client_id == known.client_id:
                    return token
        return self._issue(known.client_id, now, one_time=rotating)

    def _issue(self, client_id: str, now: float, *, one_time: bool) -> Token:
        self.issued += 1
        value = _jwt(client_id, now) if one_time else f"papi-{secrets.token_hex(24)}"
        token = Token(value, client_id, now + TOKEN_LIFETIME, one_time)
        self.tokens[value] = token
        return token

    def check(
        self, req: EmuRequest, now: float, *, refused_with: int = 403
    ) -> tuple[Token, Credentials]:
        """The caller's token and credential; a one-time token is used up by this call. A
        token that is not accepted is answered ``refused_with`` (the document's 403)."""
        header = req.headers.get("authorization", "")
        scheme, _, value = header.partition(" ")
        if not header:
            raise PersonioError(401, NOT_PROVIDED)
        token = self.tokens.get(value.strip()) if scheme.lower() == "bearer" else None
        known = self.credentials.get(token.client_id) if token else None
        if token is None or known is None or token.expires_at <= now:
            self.refused += 1
            raise PersonioError(refused_with, NOT_VALID)
        if token.one_time:
            del self.tokens[token.value]  # "blacklisted immediately after its use"
        return token, known

    def next_header(self, token: Token, now: float) -> str:
        """The ``Authorization`` response header of a successful answer: the same stable
        token, or the one-time token's successor."""
        if token.one_time:
            token = self._issue(token.client_id, now, one_time=True)
        return f"Bearer {token.value}"

    def expire_all(self, now: float) -> int:
        """Fault ``expire_tokens``: every token issued so far is expired from now on."""
        for token in self.tokens.values():
            token.expires_at = min(token.expires_at, now)
        return len(self.tokens)

    def configure(self, body: Any) -> Credentials | None:
        """Control ``POST credentials``: add or replace a credential, or revoke one."""
        require(
            isinstance(body, dict) and isinstance(body.get("client_id"), str),
            "invalid_credentials",
            "Send {client_id, client_secret, scopes} or {client_id, revoke: true}.",
        )
        client_id = body["client_id"]
        if body.get("revoke"):
            self.credentials.pop(client_id, None)
            self.tokens = {k: t for k, t in self.tokens.items() if t.client_id != client_id}
            return None
        secret, scopes = body.get("client_secret"), body.get("scopes", [READ_SCOPE])
        attributes = body.get("attributes")
        require(isinstance(secret, str) and bool(secret), "invalid_credentials", "client_secret")
        require(_strings(scopes), "invalid_credentials", "scopes: a list of strings")
        require(attributes is None or _strings(attributes), "invalid_credentials", "attributes")
        found = Credentials(
            client_id, secret, tuple(scopes), None if attributes is None else tuple(attributes)
        )
        self.credentials[client_id] = found
        return found

    def view(self) -> list[dict[str, Any]]:
        return [asdict(c) for c in self.credentials.values()]


def _credentials_in(req: EmuRequest) -> dict[str, str]:
    """client_id and client_secret from the body: JSON, or form-encoded. Credentials in the
    query string are not read (the document has a request body only)."""
    if not req.body:
        return {}
    if "json" in req.headers.get("content-type", ""):
        try:
            body = json.loads(req.body)
        except ValueError:
            raise PersonioError(400, "The request body is not valid JSON.") from None
        return (
            {k: v for k, v in body.items() if isinstance(v, str)} if isinstance(body, dict) else {}
        )
    return dict(parse_qsl(req.body.decode("utf-8", "replace")))


def _jwt(client_id: str, now: float) -> str:
    """A one-time token shaped like the document's example (a JWT), unique per issue."""

    def part(value: dict[str, Any]) -> str:
        return base64.urlsafe_b64encode(json.dumps(value).encode()).decode().rstrip("=")

    claims = {
        "iss": "personio-emulator",
        "iat": int(now),
        "exp": int(now + TOKEN_LIFETIME),
        "sub": client_id,
        "jti": secrets.token_hex(16),
    }
    return f"{part({'typ': 'JWT', 'alg': 'HS256'})}.{part(claims)}.{secrets.token_urlsafe(32)}"


def _strings(value: Any) -> bool:
    return isinstance(value, list) and all(isinstance(v, str) for v in value)


@dataclass
class Limits:
    """Personio's published limits (per minute unless named otherwise); None switches one
    off. Control ``POST limits`` changes them."""

    employees_per_minute: int | None = 300  # GET /company/employees, per credential
    employees_per_second: int | None = 15  # its burst
    auth_per_minute: int | None = 60  # POST /auth, per client id
    auth_cooldown: float = 60.0  # seconds refused once the auth limit is passed
    global_per_minute: int | None = 2000  # every v1 call, per IP address

    def configure(self, body: Any) -> None:
        require(isinstance(body, dict), "invalid_limits", "Send an object of limits.")
        for key, value in body.items():
            require(key in asdict(self), "invalid_limits", f"Unknown limit {key}")
            number = isinstance(value, int | float) and value >= 0
            ok = number or (value is None and key != "auth_cooldown")
            require(ok and not isinstance(value, bool), "invalid_limits", f"{key}: a number")
            setattr(self, key, value)


@dataclass
class Window:
    """Calls in a rolling window of ``seconds``."""

    seconds: float
    calls: deque[float] = field(default_factory=deque)

    def count(self, now: float) -> int:
        while self.calls and self.calls[0] <= now - self.seconds:
            self.calls.popleft()
        return len(self.calls)

    def free_in(self, now: float) -> float:
        return self.calls[0] + self.seconds - now if self.calls else 0.0


class RateLimiter:
    """Rolling windows per (rule, key); ``admit`` refuses with 429 when one is full."""

    def __init__(self, limits: Limits) -> None:
        self.limits = limits
        self.windows: dict[tuple[str, str], Window] = {}
        self.cooling_until: dict[str, float] = {}
        self.throttled: dict[str, int] = defaultdict(int)

    def admit(self, rules: list[tuple[str, str, int | None, float]], now: float) -> None:
        """``rules``: (rule, key, allowed, window seconds). Raises PersonioError(429)."""
        for rule, key, allowed, seconds in rules:
            if rule == "auth" and self.cooling_until.get(key, 0.0) > now:
                self._refuse(rule, allowed or 0, self.cooling_until[key] - now)
            if allowed is None:
                continue
            window = self.windows.setdefault((rule, key), Window(seconds))
            if window.count(now) >= allowed:
                wait = window.free_in(now)
                if rule == "auth":
                    self.cooling_until[key] = now + self.limits.auth_cooldown
                    wait = self.limits.auth_cooldown
                self._refuse(rule, allowed, wait)
        for rule, key, allowed, seconds in rules:
            if allowed is not None:
                self.windows.setdefault((rule, key), Window(seconds)).calls.append(now)

    def _refuse(self, rule: str, allowed: int, wait: float) -> None:
        self.throttled[rule] += 1
        raise PersonioError(429, "Too Many Requests", headers=throttle_headers(allowed, wait))


def throttle_headers(allowed: int, wait: float) -> dict[str, str]:
    """What a throttled answer carries under ``personio-ratelimit-headers`` (the caller
    drops them otherwise: nothing of Personio's documents a header)."""
    seconds = str(max(1, math.ceil(wait)))
    return {
        "retry-after": seconds,
        "x-ratelimit-limit": str(allowed),
        "x-ratelimit-remaining": "0",
        "x-ratelimit-reset": seconds,
    }


@dataclass
class Fault:
    """The next ``count`` calls to ``endpoint`` ("*": every call but /auth) fail so."""

    mode: str
    count: int = 1
    endpoint: str = "*"

    def takes(self, endpoint: str) -> bool:
        if self.count <= 0:
            return False
        if self.mode == "truncate" and endpoint != "employees.list":
            return False
        return self.endpoint == endpoint or (self.endpoint == "*" and endpoint != "auth")


class Faults:
    """The faults waiting to happen, and how many of each were served."""

    def __init__(self) -> None:
        self.active: list[Fault] = []
        self.injected: dict[str, int] = defaultdict(int)

    def configure(self, body: Any) -> list[Fault]:
        items = body if isinstance(body, list) else [body]
        faults = []
        for item in items:
            require(
                isinstance(item, dict) and item.get("mode") in FAULT_MODES,
                "invalid_fault",
                f"Each fault is {{mode, count, endpoint}}; modes: {', '.join(FAULT_MODES)}",
            )
            count = item.get("count", 1)
            require(isinstance(count, int) and count >= 0, "invalid_fault", "count")
            faults.append(Fault(item["mode"], count, str(item.get("endpoint", "*"))))
        self.active = [f for f in faults if f.mode != "expire_tokens"]
        return faults

    def take(self, endpoint: str) -> str | None:
        """The mode of the first fault that takes this call, used up by one."""
        for fault in self.active:
            if fault.takes(endpoint):
                fault.count -= 1
                self.injected[fault.mode] += 1
                return fault.mode
        return None
