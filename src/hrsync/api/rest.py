"""Calls to an HR system's REST API, as a ``rest`` source describes it: authentication,
pages, changed-since lists and per-record requests. No sync decisions are made here.

Every call goes through ``api.http.ZohoHttp`` (the one chokepoint: paced at the API's
documented limit with a shared call log, retried, status codes mapped to errors) under the
endpoint group ``hr``. A read that cannot be completed raises ``SourceError`` naming the
page and what was wrong with it: an answer without its records, a cursor seen before, a
next page on another host, fewer records than the answer declared.
"""

from __future__ import annotations

import copy
import datetime as dt
import logging
import time
from collections.abc import Generator, Iterator, Mapping
from typing import TYPE_CHECKING, Any

import httpx

from hrsync.api.auth import post_for_token
from hrsync.api.http import ZohoHttp
from hrsync.errors import AuthError, SourceError, TransientError, Unreachable
from hrsync.sources.rest.paths import MISSING, compile_all, compile_first, compile_path, text_of
from hrsync.sources.rest.presets import merged
from hrsync.sources.rest.spec import AlsoRead, Paging

if TYPE_CHECKING:
    from hrsync.sources.rest.spec import Auth, RestSpec

log = logging.getLogger(__name__)
ENDPOINT = "hr"  # the one endpoint group of an HR API's pacing
EXPIRY_MARGIN = 60.0


class RestClient:
    """Reads records from one HR API (``spec``) through ``http``."""

    def __init__(self, http: ZohoHttp, spec: RestSpec) -> None:
        self.http = http
        self.spec = spec
        self.title = spec.title or "the HR API"
        self._records = compile_all(spec.records)
        self._id = compile_first(spec.id)
        paging = spec.paging
        self._next = compile_path(paging.next) if paging.next and not _header(paging.next) else None
        self._total_records = compile_path(paging.total_records) if paging.total_records else None
        self._total_pages = compile_path(paging.total_pages) if paging.total_pages else None
        self._page_said = compile_path(paging.current_page) if paging.current_page else None
        self._last_call = -1e18
        self._children = [(c, compile_path(c.select)) for c in spec.children]
        since = spec.since
        self._changed = compile_all(since.changed_ids) if since and since.changed_ids else None

    @property
    def calls(self) -> int:
        return sum(self.http.calls.values())

    # --- reads ----------------------------------------------------------------------------
    def records(
        self,
        extra: Mapping[str, str] | None = None,
        *,
        body: dict[str, Any] | None = None,
        paged: bool = True,
    ) -> Iterator[tuple[str, Any]]:
        """Every record the read lists (``extra``: more query parameters; ``body``: keys
        merged into the JSON body), as (id, record), with its children added, page after
        page."""
        listings: list[AlsoRead | None] = [None, *self.spec.also]
        for also in listings:
            for record in self._listed(extra or {}, body or {}, paged=paged, also=also):
                rid = text_of(self._id(record))
                for child, select in self._children:
                    record[child.name] = self._child(child, select, rid)
                yield rid, record

    def changed_since(self, since: float) -> Iterator[tuple[str, Any]]:
        """The records changed since ``since`` (Unix time), as the spec's ``since`` asks."""
        spec = self.spec.since
        assert spec is not None
        stamp = since_text(since, spec.format)
        if not spec.changed_path:
            body = _replaced(spec.body, stamp) if spec.body else None
            extra = {spec.param: stamp} if spec.param else {}
            yield from self.records(extra, body=body, paged=spec.paged)
            return
        params = {k: v.replace("{since}", stamp) for k, v in spec.changed_params.items()}
        answer = self._call("GET", self._fill(spec.changed_path), params, None)
        assert self._changed is not None
        ids = self._changed(answer)
        if ids is MISSING:
            raise SourceError(
                f"{self.title}: the answer of {spec.changed_path} has no {spec.changed_ids!r}; "
                "the read is taken as failed"
            )
        wanted = sorted({text_of(i) for i in ids} - {""})
        for at in range(0, len(wanted), spec.ids_per_call):
            chunk = ",".join(wanted[at : at + spec.ids_per_call])
            yield from self.records({spec.ids_param: chunk})

    def declared_count(self) -> int | None:
        """How many records a full read should find, as ``[source.rest.count]`` asks (None:
        no such request, or an answer that does not say)."""
        count = self.spec.count
        if count is None:
            return None
        params = {k: self._fill(v) for k, v in count.params.items()}
        try:
            answer = self._call("GET", self._fill(count.path), params, None)
        except SourceError as problem:
            log.warning("%s: the count of records could not be read (%s)", self.title, problem)
            return None
        return _number(compile_path(count.total)(answer), None)

    def probe(self) -> Any:
        """One page of the read (``hrsync doctor``): the answer as it came."""
        params, body = self._request({}, None)
        return self._call(self.spec.method, self._fill(self.spec.path), params, body)

    # --- pages ----------------------------------------------------------------------------
    def _listed(
        self,
        extra: Mapping[str, str],
        more: dict[str, Any],
        *,
        paged: bool = True,
        also: AlsoRead | None = None,
    ) -> Generator[Any, None, None]:
        spec = self.spec
        paging = spec.paging if paged else Paging()
        path = self._fill(also.path if also and also.path else spec.path)
        if also is not None:
            extra = {**{k: self._fill(v) for k, v in also.params.items()}, **extra}
            more = merged(also.body, more) if also.body else more
        position, count, pages = paging.start, 0, 0
        cursor: str | None = None
        seen: set[str] = set()
        declared_records = declared_pages = None
        kind = paging.kind
        while True:
            given: dict[str, Any] = {}
            if paging.kind in ("page", "offset"):
                given[paging.param] = position
            if paging.size_param:
                given[paging.size_param] = paging.size
            if paging.kind == "cursor" and cursor:
                given[paging.param] = cursor
            params, body = self._request(extra, given, more)
            where = f"page {pages + 1} of {path}"
            answer = self._call(spec.method, path, params, body)
            found = self._records(answer)
            if found is MISSING or not isinstance(found, list):
                raise SourceError(
                    f"{self.title}: {where} has no records at {spec.records!r}; the read is "
                    "taken as failed (nobody is taken to have left)"
                )
            pages += 1
            count += len(found)
            yield from found
            if self._total_records is not None and paged:
                declared_records = _number(self._total_records(answer), declared_records)
            if self._total_pages is not None and paged:
                declared_pages = _number(self._total_pages(answer), declared_pages)
            if paging.kind == "none":
                break
            if kind == "offset" and pages == 1 and self._page_said is not None:
                said = _number(self._page_said(answer), None)
                if said is not None and said != position // paging.size:
                    # The API counts pages where offsets were asked: on by page number.
                    log.info("%s: offset is a page number here; reading on by page", self.title)
                    kind, position = "page", said
            if kind in ("page", "offset"):
                if declared_pages is not None and pages >= declared_pages:
                    break
                if declared_records is not None and count >= declared_records:
                    break
                if len(found) < paging.size or not found:
                    break
                position += 1 if kind == "page" else len(found)
                continue
            following = self._following(answer)
            if not following:
                break
            if following in seen:
                raise SourceError(
                    f"{self.title}: {where} points back to a page already read; the read is "
                    "taken as failed"
                )
            seen.add(following)
            if paging.kind == "cursor":
                cursor = following
            else:
                path, extra = self._same_host(following, where), {}
        if declared_records is not None and count < declared_records:
            raise SourceError(
                f"{self.title}: the read ended with {count} of the {declared_records} records "
                f"the answers declared; it is taken as failed (nobody is taken to have left)"
            )
        if declared_pages is not None and pages < declared_pages:
            raise SourceError(
                f"{self.title}: the read ended after {pages} of the {declared_pages} pages the "
                "answers declared; it is taken as failed (nobody is taken to have left)"
            )
        log.info("%s: %d records in %d pages", self.title, count, pages)

    def _following(self, answer: Any) -> str:
        """The next cursor or page address, "" on the last page."""
        paging = self.spec.paging
        headers = self.http.last_headers
        if paging.kind == "link_header":
            link = httpx.Response(200, headers={"link": headers.get("link", "")}).links
            return str(link.get("next", {}).get("url", ""))
        header = _header(paging.next)
        if header:
            return str(headers.get(header, ""))
        return text_of(self._next(answer)) if self._next else ""

    def _same_host(self, url: str, where: str) -> str:
        """A next page's address as a path under the base URL; another host is refused:
        the credentials go nowhere else."""
        base = self._fill(self.spec.base_url)
        if url.startswith("/"):
            return url
        if not url.startswith(base + "/") and url != base:
            target = httpx.URL(url)
            if (target.scheme, target.host, target.port) != _origin(base):
                raise SourceError(
                    f"{self.title}: {where} sends the next page to {target.host!r}, not "
                    f"{httpx.URL(base).host!r}; hrsync does not send the credentials elsewhere"
                )
            return str(target.raw_path.decode())[
                len(httpx.URL(base).raw_path.decode().rstrip("/")) :
            ]
        return url[len(base) :]

    def _request(
        self,
        extra: Mapping[str, str],
        given: Mapping[str, Any] | None,
        more: dict[str, Any] | None = None,
    ) -> tuple[dict[str, Any], Any]:
        spec = self.spec
        params: dict[str, Any] = {k: self._fill(v) for k, v in spec.params.items()}
        params.update(extra)
        body = copy.deepcopy(spec.body)
        if more:
            body = merged(body or {}, more)
        if given:
            if spec.paging.in_body and isinstance(body, dict):
                body.update(given)
            else:
                params.update(given)
        return params, body

    def _child(self, child: Any, select: Any, rid: str) -> Any:
        path = self._fill(child.path.replace("{id}", rid))
        params = {k: self._fill(v) for k, v in child.params.items()}
        answer = self._call(child.method, path, params, None)
        return select(answer)

    def _call(self, method: str, path: str, params: Mapping[str, Any], body: Any) -> Any:
        per_second = self.spec.rate_limit.per_second
        if per_second:  # a second's limit besides the minute's: calls spaced evenly
            gap = self._last_call + 1.0 / per_second - self.http.now()
            if gap > 0:
                self.http.sleep(gap)
            self._last_call = self.http.now()
        try:
            return self.http.call(
                method,
                path,
                endpoint=ENDPOINT,
                params=dict(params),
                json=body,
                idempotent=True,
                headers=dict(self.spec.headers),
            )
        except AuthError as refused:
            raise SourceError(
                f"{self.title} refused the credentials ({refused}): check the API key or the "
                "connection, and its permissions; nothing was changed"
            ) from refused
        except Unreachable as problem:
            raise SourceError(f"{self.title} cannot be reached: {problem}") from problem
        except TransientError as problem:
            raise SourceError(f"{self.title} failed: {problem}; nothing was changed") from problem
        except ValueError as problem:
            raise SourceError(f"{self.title}: {path} did not answer JSON ({problem})") from None

    def _fill(self, text: str) -> str:
        return self.spec.filled(text)


def _replaced(value: Any, stamp: str) -> Any:
    """``value`` with "{since}" replaced by ``stamp`` in every text it holds."""
    if isinstance(value, str):
        return value.replace("{since}", stamp)
    if isinstance(value, dict):
        return {k: _replaced(v, stamp) for k, v in value.items()}
    if isinstance(value, list):
        return [_replaced(v, stamp) for v in value]
    return value


def since_text(at: float, fmt: str) -> str:
    """A Unix time as the API's changed-since parameter takes it."""
    moment = dt.datetime.fromtimestamp(at, dt.UTC)
    if fmt == "iso":
        return moment.strftime("%Y-%m-%dT%H:%M:%SZ")
    if fmt == "iso_local":
        return moment.strftime("%Y-%m-%dT%H:%M:%S")
    if fmt == "epoch":
        return str(int(at))
    if fmt == "epoch_ms":
        return str(int(at * 1000))
    return moment.strftime(fmt)


def _number(value: Any, before: int | None) -> int | None:
    try:
        return int(text_of(value)) if value is not MISSING and value is not None else before
    except ValueError:
        return before


def _header(where: str) -> str:
    return where.removeprefix("header:").strip() if where.startswith("header:") else ""


def _origin(url: str) -> tuple[str, str, int | None]:
    parsed = httpx.URL(url)
    return parsed.scheme, parsed.host, parsed.port


# --- authentication -----------------------------------------------------------------------
def auth_for(spec: Auth, client: httpx.Client, *, base_url: str, clock: Any) -> httpx.Auth | None:
    """The ``httpx.Auth`` that signs each call as ``spec`` says."""
    kind = spec.type
    if kind == "none":
        return None
    if kind == "basic":
        return httpx.BasicAuth(spec.username, spec.password.get_secret_value())
    if kind in ("bearer", "api_key"):
        return KeyAuth(spec, spec.token.get_secret_value())
    return ExchangedToken(spec, client, base_url=base_url, clock=clock)


class KeyAuth(httpx.Auth):
    """A fixed key: ``Authorization: Bearer KEY``, or any header or query parameter."""

    def __init__(self, spec: Auth, key: str) -> None:
        self._spec, self._key = spec, key

    def auth_flow(self, request: httpx.Request) -> Generator[httpx.Request, httpx.Response, None]:
        spec = self._spec
        if spec.type == "bearer":
            request.headers["Authorization"] = f"Bearer {self._key}"
        elif spec.key_in == "basic_user":
            request.headers["Authorization"] = httpx.BasicAuth(self._key, "x")._auth_header
        elif spec.key_in == "query":
            request.url = request.url.copy_set_param(spec.key_name, self._key)
        else:
            request.headers[spec.key_name] = spec.key_prefix + self._key
        yield request


class ExchangedToken(httpx.Auth):
    """A token asked for with the client id and secret (``token_exchange``: the API's own
    token call; ``oauth2_client_credentials``: RFC 6749 §4.4), kept until shortly before it
    expires, asked for again once after a 401. Where the API hands out the next token with
    each answer (``rotating_header``), that one is sent next."""

    def __init__(self, spec: Auth, client: httpx.Client, *, base_url: str, clock: Any) -> None:
        self._spec, self._client, self._clock = spec, client, clock
        url = spec.token_url
        self._url = url if url.startswith(("http://", "https://")) else base_url + url
        self._token = ""
        self._expires = 0.0

    def auth_flow(self, request: httpx.Request) -> Generator[httpx.Request, httpx.Response, None]:
        token = self._current()
        request.headers["Authorization"] = f"Bearer {token}"
        response = yield request
        if response.status_code in (401, 403):  # expired, revoked or spent: one fresh token
            self._token = ""
            request.headers["Authorization"] = f"Bearer {self._current()}"
            response = yield request
        self._rotated(response)

    def _rotated(self, response: httpx.Response) -> None:
        header = self._spec.rotating_header
        if header and response.headers.get(header):
            self._token = response.headers[header].removeprefix("Bearer ").strip()

    def _current(self) -> str:
        now = self._clock.now() if self._clock else time.time()
        if self._token and now < self._expires - EXPIRY_MARGIN:
            return self._token
        spec = self._spec
        fields = {
            "client_id": spec.client_id,
            "client_secret": spec.client_secret.get_secret_value(),
        }
        if spec.type == "oauth2_client_credentials":
            fields["grant_type"] = "client_credentials"
        if spec.scope:
            fields["scope"] = spec.scope
        answer = post_for_token(self._client, self._url, fields, as_json=spec.token_body == "json")
        try:
            payload = answer.json()
        except ValueError:
            payload = None
        token = text_of(compile_path(spec.token_path)(payload)) if payload is not None else ""
        if answer.status_code >= 400 or not token:
            raise AuthError(
                f"{self._url} gave no token (HTTP {answer.status_code}): check client_id and "
                "client_secret",
                url=self._url,
                status=answer.status_code,
            )
        lifetime = _number(compile_path(spec.expires_path)(payload), None) or 3600
        self._token, self._expires = token, now + lifetime
        return token
