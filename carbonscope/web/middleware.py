"""Pure ASGI middleware: security headers, per-client rate limits, the response cache."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from carbonscope.web.cache import DataVersion, MemoryStore, RedisStore, cache_key


def csp(img_sources: str = "") -> bytes:
    """The site's Content-Security-Policy; ``img_sources``: a base map's tile origin, when one is set."""
    img = f"'self' data: {img_sources}".strip()
    return (
        f"default-src 'self'; img-src {img}; style-src 'self'; script-src 'self'; object-src 'none'; "
        "frame-ancestors 'none'; base-uri 'self'; form-action 'self'"
    ).encode()


SECURITY_HEADERS = [
    (b"x-content-type-options", b"nosniff"),
    (b"referrer-policy", b"same-origin"),
    (b"x-frame-options", b"DENY"),
    (b"content-security-policy", csp()),
]


class SecurityHeaders:
    """The headers of every response (a route may set a stricter or looser CSP of its own);
    Strict-Transport-Security when ``hsts_seconds`` is set (only behind HTTPS)."""

    def __init__(self, app: ASGIApp, hsts_seconds: int = 0, img_sources: str = ""):
        self.app = app
        base = [h for h in SECURITY_HEADERS if h[0] != b"content-security-policy"]
        self.headers = (
            base
            + [(b"content-security-policy", csp(img_sources))]
            + (
                [(b"strict-transport-security", f"max-age={hsts_seconds}; includeSubDomains".encode())]
                if hsts_seconds > 0
                else []
            )
        )

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            return await self.app(scope, receive, send)

        async def wrapped(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = list(message.get("headers", []))
                present = {k.lower() for k, _ in headers}
                headers += [(k, v) for k, v in self.headers if k not in present]
                message = {**message, "headers": headers}
            await send(message)

        await self.app(scope, receive, wrapped)


class BodyLimit:
    """Refuse a request body before it is read: larger than ``max_bytes`` (by Content-Length, or
    counted as it streams when there is none) is 413; an upload (multipart) with neither a session
    cookie nor an API token is 401, so an anonymous client never gets a byte written to disk.
    Routes still check who may write (authorization is theirs); this stops the cost before it starts."""

    def __init__(self, app: ASGIApp, max_bytes: int, session_cookie: str):
        self.app, self.max_bytes, self.cookie = app, max_bytes, session_cookie.encode()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] in ("GET", "HEAD", "OPTIONS"):
            return await self.app(scope, receive, send)
        headers = dict(scope.get("headers") or [])
        length = headers.get(b"content-length")
        if length is not None and (not length.isdigit() or int(length) > self.max_bytes):
            return await _refuse(send, 413, f"the request body is larger than {self.max_bytes:,} bytes")
        if headers.get(b"content-type", b"").startswith(b"multipart/") and not (
            headers.get(b"authorization", b"").lower().startswith(b"bearer ")
            or self.cookie + b"=" in headers.get(b"cookie", b"")
        ):
            return await _refuse(send, 401, "sign in (or send an API token) before uploading")
        received, refused = 0, False

        async def counted():
            nonlocal received, refused
            if refused:
                return {"type": "http.disconnect"}
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > self.max_bytes:
                    # Answer now and end the body: whatever the route makes of a cut body is dropped
                    refused = True
                    await _refuse(send, 413, f"the request body is larger than {self.max_bytes:,} bytes")
                    return {"type": "http.disconnect"}
            return message

        async def guarded(message: Message) -> None:
            if not refused:
                await send(message)

        try:
            await self.app(scope, counted, guarded)
        except Exception:
            if not refused:
                raise


async def _refuse(send: Send, status: int, detail: str) -> None:
    body = json.dumps(
        {
            "type": "about:blank",
            "title": "Payload too large" if status == 413 else "Unauthorized",
            "status": status,
            "detail": detail,
        }
    ).encode()
    await send(
        {
            "type": "http.response.start",
            "status": status,
            "headers": [(b"content-type", b"application/problem+json"), (b"content-length", str(len(body)).encode())],
        }
    )
    await send({"type": "http.response.body", "body": body})


def client_address(scope: Scope) -> str:
    client = scope.get("client")
    return client[0] if client else "unknown"


class RateLimit:
    """A token bucket per client address: ``per_minute`` requests a minute, bursts up to a fifth of that.

    In-process by default; with Redis, one fixed-window counter per client shared by every worker.
    """

    def __init__(self, app: ASGIApp, per_minute: int, redis_url: str | None = None):
        self.app, self.per_minute = app, per_minute
        self.burst = max(10, per_minute // 5)
        self._buckets: dict[str, tuple[float, float]] = {}
        self._lock = threading.Lock()
        self._redis = None
        if redis_url and per_minute:
            import redis

            self._redis = redis.Redis.from_url(redis_url)

    def _allow(self, who: str) -> tuple[bool, float]:
        if self._redis is not None:
            window = int(time.time() // 60)
            key = f"carbonscope:rl:{who}:{window}"
            n = self._redis.incr(key)
            if n == 1:
                self._redis.expire(key, 61)
            return n <= self.per_minute, 60 - time.time() % 60
        rate = self.per_minute / 60.0
        now = time.monotonic()
        with self._lock:
            tokens, last = self._buckets.get(who, (self.burst, now))
            tokens = min(self.burst, tokens + (now - last) * rate)
            if tokens >= 1:
                self._buckets[who] = (tokens - 1, now)
                return True, 0.0
            self._buckets[who] = (tokens, now)
            return False, (1 - tokens) / rate

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or not self.per_minute or scope["path"].startswith("/static/"):
            return await self.app(scope, receive, send)
        ok, wait = self._allow(client_address(scope))
        if ok:
            return await self.app(scope, receive, send)
        body = json.dumps(
            {
                "type": "about:blank",
                "title": "Too many requests",
                "status": 429,
                "detail": f"more than {self.per_minute} requests a minute from one address; retry in {wait:.0f} s",
            }
        ).encode()
        await send(
            {
                "type": "http.response.start",
                "status": 429,
                "headers": [
                    (b"content-type", b"application/problem+json"),
                    (b"retry-after", str(max(1, round(wait))).encode()),
                    (b"content-length", str(len(body)).encode()),
                ],
            }
        )
        await send({"type": "http.response.body", "body": body})


class ResponseCache:
    """Caches 200 responses of anonymous GET requests to ``prefixes`` (not exports), with ETags."""

    def __init__(
        self,
        app: ASGIApp,
        store: MemoryStore | RedisStore,
        version: DataVersion,
        ttl: float,
        prefixes: tuple[str, ...] = ("/api/v1/",),
        exact: tuple[str, ...] = (),
        skip_params: tuple[str, ...] = ("format",),
        skip_prefixes: tuple[str, ...] = (),
        extra_key: Callable[[Scope], str] | None = None,
    ) -> None:
        self.app, self.store, self.version, self.ttl = app, store, version, ttl
        self.prefixes, self.exact, self.skip_params, self.skip_prefixes = (
            prefixes,
            set(exact),
            skip_params,
            tuple(skip_prefixes),
        )
        self.extra_key = extra_key  # scope -> str: more state the response depends on (comments of a page, ...)

    def _cacheable(self, scope: Scope) -> bool:
        if scope["type"] != "http" or scope["method"] not in ("GET", "HEAD"):
            return False
        if not (scope["path"].startswith(self.prefixes) or scope["path"] in self.exact) or scope["path"].endswith(
            "/export"
        ):
            return False
        if self.skip_prefixes and scope["path"].startswith(self.skip_prefixes):
            return False
        qs = scope.get("query_string", b"").decode("latin-1")
        if any(f"{p}=" in qs for p in self.skip_params):
            return False
        headers = dict(scope.get("headers", []))
        return b"authorization" not in headers and b"cs_session" not in headers.get(b"cookie", b"")

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if not self._cacheable(scope):
            return await self.app(scope, receive, send)
        headers = dict(scope.get("headers", []))
        accept_enc = b"gzip" if b"gzip" in headers.get(b"accept-encoding", b"") else b""
        extra = self.extra_key(scope) if self.extra_key else ""
        key = cache_key(
            self.version.get(),
            scope["path"] + "#" + extra,
            scope.get("query_string", b"").decode("latin-1"),
            accept_enc.decode(),
        )
        etag = f'"{key}"'.encode()
        if headers.get(b"if-none-match") == etag:
            await send(
                {
                    "type": "http.response.start",
                    "status": 304,
                    "headers": [(b"etag", etag), (b"cache-control", b"public, max-age=60")],
                }
            )
            await send({"type": "http.response.body", "body": b""})
            return
        hit = self.store.get(key)
        if hit is not None:
            head, body = hit.split(b"\n\n", 1)
            raw_headers = json.loads(head)
            out = [(k.encode("latin-1"), v.encode("latin-1")) for k, v in raw_headers] + [
                (b"etag", etag),
                (b"x-cache", b"hit"),
            ]
            await send({"type": "http.response.start", "status": 200, "headers": out})
            await send({"type": "http.response.body", "body": body if scope["method"] == "GET" else b""})
            return
        captured: dict = {"status": None, "headers": [], "body": [], "stream": False}

        async def wrapped(message: Message) -> None:
            if message["type"] == "http.response.start":
                captured["status"] = message["status"]
                captured["headers"] = [
                    (k, v)
                    for k, v in message.get("headers", [])
                    if k.lower() not in (b"etag", b"cache-control", b"x-cache")
                ]
                extra = (
                    [(b"etag", etag), (b"cache-control", b"public, max-age=60"), (b"x-cache", b"miss")]
                    if message["status"] == 200
                    else []
                )
                message = {**message, "headers": captured["headers"] + extra}
            elif message["type"] == "http.response.body":
                captured["body"].append(message.get("body", b""))
                if message.get("more_body"):
                    captured["stream"] = True
            await send(message)

        await self.app(scope, receive, wrapped)
        if captured["status"] == 200 and not captured["stream"] and scope["method"] == "GET":
            keep = [
                (k.decode("latin-1"), v.decode("latin-1"))
                for k, v in captured["headers"]
                if k.lower() in (b"content-type", b"content-encoding", b"vary", b"content-length")
            ]
            self.store.set(key, json.dumps(keep).encode() + b"\n\n" + b"".join(captured["body"]), self.ttl)
