"""Two small services on loopback for custom connections: one behind basic auth, one behind
OAuth 1.0 (request token, consent, access token, signed calls; HMAC-SHA1 checked)."""

from __future__ import annotations

import base64
import json
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlencode, urlparse

from authlib.oauth1.rfc5849.signature import verify_hmac_sha1
from authlib.oauth1.rfc5849.wrapper import OAuth1Request

CONSUMER = ("ck-loopback", "cs-loopback-secret")
BASIC = ("sync", "basic-loopback-password")


class _Secret:
    def __init__(self, client: str = "", token: str = "") -> None:
        self.client, self.token = client, token

    def get_client_secret(self) -> str:
        return self.client

    def get_oauth_token_secret(self) -> str:
        return self.token


def _oauth_token(header: str) -> str:
    return header.split('oauth_token="')[1].split('"')[0] if 'oauth_token="' in header else ""


@contextmanager
def loopback_services() -> Iterator[str]:
    tokens: dict[str, str] = {}  # oauth_token -> its secret (request and access tokens)
    verifiers: dict[str, str] = {}  # request token -> verifier
    callbacks: dict[str, str] = {}  # request token -> where the consent sends the admin back
    base = ""

    class Handler(BaseHTTPRequestHandler):
        def _reply(self, status: int, body: Any, kind: str = "application/json") -> None:
            data = body if isinstance(body, bytes) else json.dumps(body).encode()
            self.send_response(status)
            self.send_header("content-type", kind)
            self.send_header("content-length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def _signed(self, token_secret: str = "") -> OAuth1Request | None:
            length = int(self.headers.get("content-length") or 0)
            body = self.rfile.read(length) if length else b""
            request = OAuth1Request(self.command, base + self.path, body, dict(self.headers))
            if request.client_id != CONSUMER[0]:
                return None
            request.client = _Secret(client=CONSUMER[1])
            request.credential = _Secret(token=token_secret)
            return request if verify_hmac_sha1(request) else None

        def do_POST(self) -> None:
            path = urlparse(self.path).path
            if path == "/oauth/request_token":
                request = self._signed()
                if request is None:
                    return self._reply(401, {"error": "bad signature"})
                token = f"rt{len(tokens)}"
                tokens[token] = f"rts{len(tokens)}"
                verifiers[token] = "v-" + token
                answer = {"oauth_token": token, "oauth_token_secret": tokens[token]}
                answer["oauth_callback_confirmed"] = "true"
                callbacks[token] = request.redirect_uri or ""
                return self._reply(200, urlencode(answer).encode(), "text/plain")
            if path == "/oauth/access_token":
                header = self.headers.get("authorization", "")
                token = (
                    header.split('oauth_token="')[1].split('"')[0]
                    if "oauth_token" in header
                    else ""
                )
                request = self._signed(tokens.get(token, ""))
                verifier = request.oauth_params.get("oauth_verifier") if request else None
                if request is None or verifier != verifiers.get(token):
                    return self._reply(401, {"error": "bad signature or verifier"})
                access = f"at{len(tokens)}"
                tokens[access] = f"ats{len(tokens)}"
                answer = {"oauth_token": access, "oauth_token_secret": tokens[access]}
                return self._reply(200, urlencode(answer).encode(), "text/plain")
            return self._reply(404, {"error": "no such path"})

        def do_GET(self) -> None:
            url = urlparse(self.path)
            query = {k: v[0] for k, v in parse_qs(url.query).items()}
            if url.path == "/oauth/authorize":  # the admin consents at once
                token = query.get("oauth_token", "")
                back = callbacks.get(token, "")
                if not back:
                    return self._reply(400, {"error": "unknown request token"})
                consent = {"oauth_token": token, "oauth_verifier": verifiers[token]}
                target = f"{back}?{urlencode(consent)}"
                self.send_response(302)
                self.send_header("location", target)
                self.end_headers()
                return None
            if url.path == "/basic/me":
                expected = base64.b64encode(f"{BASIC[0]}:{BASIC[1]}".encode()).decode()
                if self.headers.get("authorization") != f"Basic {expected}":
                    return self._reply(401, {"error": "who are you?"})
                return self._reply(200, {"user": BASIC[0], "query": query})
            if url.path == "/api/me":
                header = self.headers.get("authorization", "")
                token = (
                    header.split('oauth_token="')[1].split('"')[0]
                    if "oauth_token" in header
                    else ""
                )
                if token not in tokens or self._signed(tokens[token]) is None:
                    return self._reply(401, {"error": "bad signature"})
                return self._reply(200, {"user": "oauth1", "query": query})
            return self._reply(404, {"error": "no such path"})

        def log_message(self, *args: Any) -> None:
            return None

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    base = f"http://127.0.0.1:{server.server_address[1]}"
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield base
    finally:
        server.shutdown()
        server.server_close()
