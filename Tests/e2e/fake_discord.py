"""A local fake of Discord's execute-webhook endpoint (docs/architecture.md: "Discord"), run
in-process.

    fake = FakeDiscord().start()                     # or FakeDiscord(tls_context=ctx) for HTTPS
    url = fake.url("123456789012345678")             # what a user would register
    fake.set_fault("123456789012345678", ("status", 500), "drop")
    ... make the service deliver ...
    [got] = fake.wait_for(1, "123456789012345678")
    assert got.body["embeds"][0]["title"] == "🔔 Test"
    fake.stop()

Like Discord it serves `POST /api/v10/webhooks/{id}/{token}`: 204 without `wait`, 200 and
the created message with `wait=true` (pinging as Discord would: `mention_roles`, `mentions`,
`mention_everyone` from the content as `allowed_mentions` allows); per-webhook rate limits (`limit` per `window` seconds) with
`X-RateLimit-*` headers on every answer and a 429 over the limit; 400 for bodies Discord refuses
(50109 bad JSON, 50035 over its limits, 50006 empty; the limits are in discord_limits.py).

Forum channels: `fake.make_forum(webhook_id)` puts a webhook in one. A message to it must name a
new thread (`thread_name`: the thread is made, and the message, its first, comes back with
`channel_id` the thread's id, which is also the message's id, and `position` 0) or a thread of
the forum (`?thread_id=`: `position` counts on); neither, both, or `thread_name` outside a forum
is Discord's 400 (220001, 220002, 220003), and a thread of another channel or one
`fake.delete_thread(id)` deleted is 404 Unknown Channel (10003). `fake.threads(webhook_id)`
lists a forum's threads: {id: (name, messages)}.

Messages: every post is kept by webhook, and `PATCH …/{token}/messages/{id}` edits one as
Discord's Edit Webhook Message does (the body checked as a post's; 200 and the message, with
`edited_timestamp`); a message of another webhook, or one `fake.delete_message(id)` deleted,
is 404 Unknown Message (10008). Edits use the webhook's rate-limit window, as posts do.
`fake.messages(webhook_id)` gives {id: body as last posted or edited}.

Faults are queued or set per webhook id:

    "404" "401" "403"             Unknown Webhook / Invalid Webhook Token / Missing Permissions
    ("status", code)              that status, {"message": <reason>, "code": 0} (HTML for 502)
    ("slow", seconds)             wait, then answer normally
    "drop"                        read the request, close the connection without an answer
    ("429", retry_after)          a route 429 with retry_after in the body and headers
    ("429-global", retry_after)   the global limit: "global": true, no bucket headers
    ("429-header-only", seconds)  a 429 whose body has no retry_after; only Retry-After
    "cloudflare"                  Cloudflare's ban: 429, code 0, no X-RateLimit-*, 1 hour
    ("redirect", location)        302 to location

Accounting: every answer but a 429, "drop" and "cloudflare" uses up one request of the webhook's
window (Discord counts failed requests too); `over_limit` counts 429s the fake gave because the
real limit was exceeded, so tests can assert a well-behaved sender kept it at 0.
"""

import hashlib
import http.server
import itertools
import json
import math
import re
import socket
import ssl
import threading
import time
from dataclasses import dataclass
from datetime import datetime, timezone
from http import HTTPStatus
from urllib.parse import parse_qsl, urlsplit

from discord_limits import EMPTY_MESSAGE, pinged, validate_message
from fault_plan import FaultPlan

ROUTE_RE = re.compile(r"^/api/v10/webhooks/(\d{17,20})/([A-Za-z0-9_-]+)(?:/messages/(\d{17,20}))?$")
# Any webhook-looking path, to label requests that missed the route (wrong version, etc.).
LOOSE_WEBHOOK_RE = re.compile(r"/webhooks/([^/?#]+)/([^/?#]+)")

MAX_BODY = 8 * 1024 * 1024
DISCORD_EPOCH_MS = 1420070400000

NOT_FOUND = {"message": "404: Not Found", "code": 0}
METHOD_NOT_ALLOWED = {"message": "405: Method Not Allowed", "code": 0}
UNKNOWN_WEBHOOK = {"message": "Unknown Webhook", "code": 10015}
INVALID_TOKEN = {"message": "Invalid Webhook Token", "code": 50027}
MISSING_PERMISSIONS = {"message": "Missing Permissions", "code": 50013}
INVALID_JSON = {"code": 50109, "message": "The request body contains invalid JSON."}
RATE_LIMITED = "You are being rate limited."
CLOUDFLARE_BAN = {"message": "You are being blocked from accessing our API temporarily due to "
                             "exceeding our rate limits frequently.", "code": 0}
TOO_LARGE = {"message": "Request entity too large", "code": 40005}
UNKNOWN_CHANNEL = {"message": "Unknown Channel", "code": 10003}
UNKNOWN_MESSAGE = {"message": "Unknown Message", "code": 10008}
FORUM_NEEDS_THREAD = {"message": "Webhooks posted to forum channels must have a thread_name or thread_id",
                      "code": 220001}
FORUM_BOTH = {"message": "Webhooks posted to forum channels cannot have both a thread_name and thread_id",
              "code": 220002}
THREADS_ONLY_IN_FORUMS = {"message": "Webhooks can only create threads in forum channels", "code": 220003}

BAD_GATEWAY_HTML = (b"<html>\r\n<head><title>502 Bad Gateway</title></head>\r\n<body>\r\n"
                    b"<center><h1>502 Bad Gateway</h1></center>\r\n<hr><center>cloudflare"
                    b"</center>\r\n</body>\r\n</html>\r\n")


@dataclass
class Received:
    """One request that reached the handler."""
    webhook_id: str
    token: str
    query: dict
    headers: dict
    body_bytes: bytes
    body: object
    status: int | None          # what the fake answered; None for a dropped connection
    at: float                   # time.monotonic() when the request had been read
    message_id: str | None = None
    method: str = "POST"
    path: str = ""              # the path without the query
    fault: tuple | None = None  # the fault applied, as (kind, arg)


# ---------------------------------------------------------------------------------------------
# The server

class _Window:
    __slots__ = ("start", "end", "count")

    def __init__(self, start, end):
        self.start, self.end, self.count = start, end, 0


class _TooLarge(Exception):
    pass


class _Server(http.server.ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True
    request_queue_size = 128

    def __init__(self, fake, handler):
        self.fake = fake
        super().__init__((fake.host, 0), handler)

    def get_request(self):
        sock, addr = self.socket.accept()
        self.fake._accepted()
        ctx = self.fake.tls_context
        if ctx is not None:
            # The handshake happens in the connection's own thread (Handler.setup), so a client
            # that rejects our certificate costs that thread only.
            try:
                sock = ctx.wrap_socket(sock, server_side=True, do_handshake_on_connect=False)
            except (OSError, ssl.SSLError):
                sock.close()
                raise
        self.fake._opened(sock)
        return sock, addr

    def shutdown_request(self, request):
        self.fake._closed(request)
        super().shutdown_request(request)

    def handle_error(self, request, client_address):
        # Clients that vanish, time out or fail the TLS handshake are part of the tests.
        pass


class _Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "cloudflare"
    sys_version = ""
    timeout = 60  # idle keep-alive connections

    def setup(self):
        self.connection = self.request
        if self.timeout is not None:
            self.connection.settimeout(self.timeout)
        if isinstance(self.connection, ssl.SSLSocket):
            try:
                self.connection.do_handshake()
            except (OSError, ssl.SSLError):
                self.server.fake._tls_failed()
                raise
        super().setup()

    def log_message(self, format, *args):  # noqa: A002 - the base class's name
        pass

    # Every method goes through one dispatcher.
    def do_POST(self):
        self.server.fake._handle(self, "POST")

    def do_GET(self):
        self.server.fake._handle(self, "GET")

    def do_HEAD(self):
        self.server.fake._handle(self, "HEAD")

    def do_PUT(self):
        self.server.fake._handle(self, "PUT")

    def do_PATCH(self):
        self.server.fake._handle(self, "PATCH")

    def do_DELETE(self):
        self.server.fake._handle(self, "DELETE")

    def do_OPTIONS(self):
        self.server.fake._handle(self, "OPTIONS")


_FAULT_KINDS = {"404", "401", "403", "status", "slow", "drop", "429", "429-global",
                "429-header-only", "cloudflare", "redirect"}
_FAULT_DEFAULTS = {"slow": 1.0, "429": 1.0, "429-global": 1.0, "429-header-only": 1,
                   "status": 500, "redirect": "https://example.com/"}


def _normalise_fault(fault):
    """A fault as (kind, arg); "500" or 500 alone mean ("status", 500). Unknown ones raise now,
    in the test, rather than silently in the server thread."""
    if isinstance(fault, (tuple, list)):
        if not 1 <= len(fault) <= 2:
            raise ValueError(f"fake Discord: a fault is (kind, arg), got {fault!r}")
        kind, arg = str(fault[0]), (fault[1] if len(fault) == 2 else None)
    else:
        kind, arg = str(fault), None
    if kind.isdigit() and kind not in ("404", "401", "403", "429"):
        kind, arg = "status", int(kind)
    if kind not in _FAULT_KINDS:
        raise ValueError(f"fake Discord: unknown fault {fault!r}; known: {sorted(_FAULT_KINDS)}")
    if arg is None:
        arg = _FAULT_DEFAULTS.get(kind)
    return kind, arg


def _json_bytes(obj):
    return json.dumps(obj, ensure_ascii=False, separators=(",", ":")).encode("utf-8")


def _fmt(x):
    return f"{x:.3f}"


class FakeDiscord:
    host = "127.0.0.1"

    def __init__(self, tls_context=None, limit=5, window=2.0):
        self.tls_context = tls_context
        self.limit = int(limit)
        self.window = float(window)
        self.port = None
        self._lock = threading.Lock()
        self._changed = threading.Condition(self._lock)
        self._stopping = threading.Event()
        self._server = None
        self._thread = None
        self._open = {}  # id(socket) -> socket, for closing kept-alive connections on stop
        self._snowflake_seq = itertools.count()
        self._reset_state()

    def _reset_state(self):
        self._received = []
        self._faults = FaultPlan(_normalise_fault)
        self._windows = {}
        self._forums = {}  # webhook id -> {thread id: [name, messages]}
        self._deleted_threads = set()
        self._messages = {}  # webhook id -> {message id: body}
        self.over_limit = 0
        self.connections = 0
        self.tls_failures = 0

    # -- lifecycle ------------------------------------------------------------------------------

    def start(self) -> "FakeDiscord":
        if self._server is not None:
            return self
        self._stopping.clear()
        self._server = _Server(self, _Handler)
        self.port = self._server.server_address[1]
        self._thread = threading.Thread(target=self._server.serve_forever,
                                        kwargs={"poll_interval": 0.05},
                                        name=f"fake-discord:{self.port}", daemon=True)
        self._thread.start()
        return self

    def stop(self):
        server, thread = self._server, self._thread
        if server is None:
            return
        self._server = self._thread = None
        self._stopping.set()
        server.shutdown()
        with self._lock:
            open_socks = list(self._open.values())
            self._open.clear()
        for sock in open_socks:
            try:
                sock.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
        server.server_close()
        if thread is not None:
            thread.join(timeout=10)

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.stop()

    # -- set-up and inspection ------------------------------------------------------------------

    def url(self, webhook_id, token="tok", scheme=None, host=None, thread_id=None) -> str:
        """The URL a user registers, e.g. http://127.0.0.1:PORT/api/webhooks/{id}/{token}
        (no API version: the service adds /v10). A host without a port gets this fake's port."""
        if scheme is None:
            scheme = "https" if self.tls_context is not None else "http"
        if host is None:
            host = f"{self.host}:{self.port}"
        elif host.startswith("["):
            host = host if re.search(r"\]:\d+$", host) else f"{host}:{self.port}"
        elif host.count(":") > 1:  # a bare IPv6 address
            host = f"[{host}]:{self.port}"
        elif ":" not in host:
            host = f"{host}:{self.port}"
        url = f"{scheme}://{host}/api/webhooks/{webhook_id}/{token}"
        if thread_id is not None:
            url += f"?thread_id={thread_id}"
        return url

    def set_fault(self, webhook_id, *faults):
        """Queues faults for webhook_id, consumed one per request (after any queued before)."""
        with self._lock:
            self._faults.queue(str(webhook_id), faults)

    def set_always(self, webhook_id, fault):
        """A fault for every request to webhook_id (after the queue is used up); None clears."""
        with self._lock:
            self._faults.always(str(webhook_id), fault)

    def make_forum(self, webhook_id):
        """Puts webhook_id in a forum channel: its messages must go to threads."""
        with self._lock:
            self._forums.setdefault(str(webhook_id), {})

    def delete_thread(self, thread_id):
        """Deletes a forum thread, as a moderator would: posting to it is Unknown Channel."""
        with self._lock:
            for threads in self._forums.values():
                threads.pop(str(thread_id), None)
            self._deleted_threads.add(str(thread_id))

    def threads(self, webhook_id) -> dict:
        """The forum's threads: {thread id: (name, messages posted to it)}."""
        with self._lock:
            return {tid: tuple(t) for tid, t in self._forums.get(str(webhook_id), {}).items()}

    def delete_message(self, message_id):
        """Deletes a message, as a moderator would: editing it is Unknown Message."""
        with self._lock:
            for messages in self._messages.values():
                messages.pop(str(message_id), None)

    def messages(self, webhook_id) -> dict:
        """The webhook's messages: {message id: body as last posted or edited}."""
        with self._lock:
            return dict(self._messages.get(str(webhook_id), {}))

    def received(self, webhook_id=None) -> list:
        with self._lock:
            return self._filtered(webhook_id)

    def _filtered(self, webhook_id):
        if webhook_id is None:
            return list(self._received)
        wid = str(webhook_id)
        return [r for r in self._received if r.webhook_id == wid]

    def wait_for(self, count, webhook_id=None, timeout=10.0) -> list:
        """Blocks until at least count requests (to webhook_id, if given) were received."""
        deadline = time.monotonic() + timeout
        with self._changed:
            while True:
                got = self._filtered(webhook_id)
                if len(got) >= count:
                    return got
                left = deadline - time.monotonic()
                if left <= 0:
                    break
                self._changed.wait(left)
        seen = [(r.method, r.path, r.status, r.fault) for r in got]
        raise AssertionError(
            f"fake Discord: expected at least {count} request(s)"
            f"{'' if webhook_id is None else f' to webhook {webhook_id}'} within {timeout}s, "
            f"got {len(got)}: {seen}; connections={self.connections}, "
            f"tls_failures={self.tls_failures}, all requests={len(self.received())}")

    def reset(self):
        with self._lock:
            self._reset_state()
            self._changed.notify_all()

    # -- connection bookkeeping (called by the server) -------------------------------------------

    def _accepted(self):
        with self._lock:
            self.connections += 1

    def _opened(self, sock):
        with self._lock:
            self._open[id(sock)] = sock

    def _closed(self, sock):
        with self._lock:
            self._open.pop(id(sock), None)

    def _tls_failed(self):
        with self._lock:
            self.tls_failures += 1

    # -- rate limits ----------------------------------------------------------------------------

    @staticmethod
    def bucket(webhook_id):
        return hashlib.sha256(f"webhook-bucket:{webhook_id}".encode()).hexdigest()[:32]

    def _window_for(self, wid, now):
        """The current window of wid, or None if there is none running. Caller holds the lock."""
        w = self._windows.get(wid)
        if w is not None and now >= w.end:
            w = None
            del self._windows[wid]
        return w

    def _take_slot(self, wid, now):
        """Uses one request of wid's window (starting one if none runs); returns headers."""
        w = self._window_for(wid, now)
        if w is None:
            w = self._windows[wid] = _Window(now, now + self.window)
        w.count += 1
        return self._rl_headers(wid, max(0, self.limit - w.count), w.end - now)

    def _rl_headers(self, wid, remaining, reset_after):
        reset_after = max(0.0, reset_after)
        return {
            "X-RateLimit-Limit": str(self.limit),
            "X-RateLimit-Remaining": str(remaining),
            "X-RateLimit-Reset": _fmt(time.time() + reset_after),
            "X-RateLimit-Reset-After": _fmt(reset_after),
            "X-RateLimit-Bucket": self.bucket(wid),
        }

    # -- requests -------------------------------------------------------------------------------

    def _read_body(self, h):
        te = (h.headers.get("Transfer-Encoding") or "").lower()
        if "chunked" in te:
            data = bytearray()
            while True:
                line = h.rfile.readline(65537)
                if not line:
                    raise ConnectionError("eof in chunked body")
                size = int(line.split(b";")[0].strip() or b"0", 16)
                if size == 0:
                    while h.rfile.readline(65537) not in (b"\r\n", b"\n", b""):
                        pass
                    return bytes(data)
                if len(data) + size > MAX_BODY:
                    raise _TooLarge()
                data += h.rfile.read(size)
                h.rfile.readline(65537)
        length = int(h.headers.get("Content-Length") or 0)
        if length > MAX_BODY:
            raise _TooLarge()
        return h.rfile.read(length) if length > 0 else b""

    def _send(self, h, status, body=b"", headers=None, content_type="application/json",
              method="POST"):
        try:
            h.send_response(status)
            for name, value in (headers or {}).items():
                h.send_header(name, value)
            if body or status not in (204, 304):
                h.send_header("Content-Type", content_type)
            h.send_header("Content-Length", str(len(body)))
            if h.close_connection:
                h.send_header("Connection", "close")
            h.end_headers()
            if body and method != "HEAD":
                h.wfile.write(body)
            h.wfile.flush()
        except (OSError, ssl.SSLError):
            h.close_connection = True

    def _record(self, rec):
        with self._lock:
            self._received.append(rec)
            self._changed.notify_all()

    def _next_fault(self, wid):
        """Caller holds the lock."""
        return self._faults.next(wid)

    def _handle(self, h, method):
        split = urlsplit(h.path)
        path = split.path
        try:
            raw = self._read_body(h)
        except _TooLarge:
            h.close_connection = True
            self._send(h, 413, _json_bytes(TOO_LARGE), method=method)
            return
        except (OSError, ValueError, ssl.SSLError):
            h.close_connection = True
            return
        now = time.monotonic()
        query = dict(parse_qsl(split.query, keep_blank_values=True))
        headers = {}
        for name, value in h.headers.items():
            key = name.lower()
            headers[key] = f"{headers[key]}, {value}" if key in headers else value

        m = ROUTE_RE.match(path)
        edited = m.group(3) if m else None
        if m:
            wid, token = m.group(1), m.group(2)
        else:
            loose = LOOSE_WEBHOOK_RE.search(path)
            wid, token = (loose.group(1), loose.group(2)) if loose else ("", "")
        rec = Received(webhook_id=wid, token=token, query=query, headers=headers, body_bytes=raw,
                       body=None, status=None, at=now, method=method, path=path)
        try:
            rec.body = json.loads(raw.decode("utf-8")) if raw.strip() else None
        except (UnicodeDecodeError, ValueError):
            rec.body = None

        if not m:
            rec.status = 404
            self._record(rec)
            self._send(h, 404, _json_bytes(NOT_FOUND), method=method)
            return
        if method != ("PATCH" if edited else "POST"):
            allow = "PATCH" if edited else "POST"
            rec.status = 405
            self._record(rec)
            self._send(h, 405, _json_bytes(METHOD_NOT_ALLOWED), {"Allow": allow}, method=method)
            return

        with self._lock:
            fault = self._next_fault(wid)
        rec.fault = fault
        kind, arg = fault if fault is not None else (None, None)

        if kind == "slow":
            self._stopping.wait(float(arg or 0))
            rec.at = time.monotonic()
            kind = None
        if kind == "drop":
            self._record(rec)
            self._drop(h)
            return
        if kind is not None:
            status, body, hdrs, ctype = self._fault_answer(kind, arg, wid)
            rec.status = status
            self._record(rec)
            self._send(h, status, body, hdrs, ctype)
            return
        status, body, hdrs, message_id = self._answer(wid, query, headers, raw, edited)
        rec.status, rec.message_id = status, message_id
        self._record(rec)
        self._send(h, status, body, hdrs)

    def _drop(self, h):
        h.close_connection = True
        sock = h.connection
        try:
            sock.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass

    def _fault_answer(self, kind, arg, wid):
        """(status, body bytes, headers, content type) for an injected fault."""
        now = time.monotonic()
        if kind in ("404", "401", "403"):
            body = {"404": UNKNOWN_WEBHOOK, "401": INVALID_TOKEN, "403": MISSING_PERMISSIONS}[kind]
            with self._lock:
                hdrs = self._take_slot(wid, now)
            return int(kind), _json_bytes(body), hdrs, "application/json"
        if kind == "status":
            code = int(arg)
            with self._lock:
                hdrs = self._take_slot(wid, now)
            if code == 502:
                return code, BAD_GATEWAY_HTML, hdrs, "text/html"
            try:
                phrase = HTTPStatus(code).phrase
            except ValueError:
                phrase = "Error"
            return code, _json_bytes({"message": phrase, "code": 0}), hdrs, "application/json"
        if kind == "redirect":
            with self._lock:
                hdrs = self._take_slot(wid, now)
            hdrs["Location"] = str(arg)
            return 302, b"", hdrs, "text/plain"
        if kind in ("429", "429-header-only"):
            after = float(arg if arg is not None else 1.0)
            hdrs = self._rl_headers(wid, 0, after)
            hdrs["Retry-After"] = str(math.ceil(after))
            hdrs["X-RateLimit-Scope"] = "user"
            body = {"message": RATE_LIMITED, "global": False}
            if kind == "429":
                body = {"message": RATE_LIMITED, "retry_after": round(after, 3), "global": False}
            return 429, _json_bytes(body), hdrs, "application/json"
        if kind == "429-global":
            after = float(arg if arg is not None else 1.0)
            hdrs = {"Retry-After": str(math.ceil(after)), "X-RateLimit-Global": "true",
                    "X-RateLimit-Scope": "global"}
            body = {"message": RATE_LIMITED, "retry_after": round(after, 3), "global": True}
            return 429, _json_bytes(body), hdrs, "application/json"
        if kind == "cloudflare":
            return 429, _json_bytes(CLOUDFLARE_BAN), {"Retry-After": "3600"}, "application/json"
        raise AssertionError(f"fake Discord: unhandled fault {kind!r}")  # _normalise_fault let it by

    def _answer(self, wid, query, headers, raw, edited=None):
        """Rate limit, then validate, then deliver (or edit message `edited`): (status, body,
        headers, message id)."""
        now = time.monotonic()
        with self._lock:
            w = self._window_for(wid, now)
            if w is not None and w.count >= self.limit:
                self.over_limit += 1
                after = w.end - now
                hdrs = self._rl_headers(wid, 0, after)
                hdrs["Retry-After"] = str(math.ceil(after))
                hdrs["X-RateLimit-Scope"] = "user"
                body = {"message": RATE_LIMITED, "retry_after": round(after, 3), "global": False}
                return 429, _json_bytes(body), hdrs, None
            hdrs = self._take_slot(wid, now)

        ctype = (headers.get("content-type") or "").split(";")[0].strip().lower()
        if not raw.strip():
            return 400, _json_bytes(EMPTY_MESSAGE), hdrs, None
        if ctype != "application/json":
            return 400, _json_bytes(INVALID_JSON), hdrs, None
        try:
            body = json.loads(raw.decode("utf-8"))
        except (UnicodeDecodeError, ValueError):
            return 400, _json_bytes(INVALID_JSON), hdrs, None
        problem = validate_message(body)
        if problem is not None:
            return problem[0], _json_bytes(problem[1]), hdrs, None
        if edited is not None:
            return self._edit(wid, edited, body, hdrs)

        thread_id = query.get("thread_id")
        if thread_id is not None and not re.fullmatch(r"\d{17,20}", thread_id):
            err = {"code": 50035, "message": "Invalid Form Body", "errors": {"thread_id": {
                "_errors": [{"code": "NUMBER_TYPE_COERCE",
                             "message": f'Value "{thread_id}" is not snowflake.'}]}}}
            return 400, _json_bytes(err), hdrs, None

        message_id = self._snowflake()
        channel_id, position = thread_id or self._channel_id(wid), None
        thread_name = body.get("thread_name")
        with self._lock:
            forum = self._forums.get(wid)
            if forum is None and thread_name is not None:
                return 400, _json_bytes(THREADS_ONLY_IN_FORUMS), hdrs, None
            if forum is not None:
                if thread_name is not None and thread_id is not None:
                    return 400, _json_bytes(FORUM_BOTH), hdrs, None
                if thread_name is not None:  # checked with the message's other limits
                    # A forum post's thread has its first message's id.
                    channel_id, position = message_id, 0
                    forum[channel_id] = [thread_name, 1]
                elif thread_id is None:
                    return 400, _json_bytes(FORUM_NEEDS_THREAD), hdrs, None
                elif thread_id not in forum:
                    return 404, _json_bytes(UNKNOWN_CHANNEL), hdrs, None
                else:
                    position = forum[thread_id][1]
                    forum[thread_id][1] += 1
            elif thread_id in self._deleted_threads:
                return 404, _json_bytes(UNKNOWN_CHANNEL), hdrs, None
        with self._lock:
            self._messages.setdefault(wid, {})[message_id] = body
        if query.get("wait", "").lower() not in ("true", "1"):
            return 204, b"", hdrs, message_id
        roles, users, everyone = pinged(body)
        message = {
            "id": message_id,
            "type": 0,
            "content": body.get("content") or "",
            "channel_id": channel_id,
            "author": {"bot": True, "id": wid, "username": body.get("username") or "Captain Hook",
                       "avatar": None, "discriminator": "0000"},
            "attachments": [],
            "embeds": body.get("embeds") or [],
            "mentions": [{"id": user, "username": f"user-{user}", "bot": False} for user in users],
            "mention_roles": roles,
            "pinned": False,
            "mention_everyone": everyone,
            "tts": bool(body.get("tts")),
            "timestamp": datetime.now(timezone.utc).isoformat(timespec="microseconds"),
            "edited_timestamp": None,
            "flags": 0,
            "components": [],
            "webhook_id": wid,
        }
        if position is not None:
            message["position"] = position
        return 200, _json_bytes(message), hdrs, message_id

    def _edit(self, wid, message_id, body, hdrs):
        """Edit Webhook Message: the webhook's own message, else Unknown Message."""
        with self._lock:
            messages = self._messages.get(wid, {})
            if message_id not in messages:
                return 404, _json_bytes(UNKNOWN_MESSAGE), hdrs, None
            messages[message_id] = body
        now = datetime.now(timezone.utc).isoformat(timespec="microseconds")
        message = {
            "id": message_id, "type": 0, "content": body.get("content") or "",
            "channel_id": self._channel_id(wid), "embeds": body.get("embeds") or [],
            "edited_timestamp": now, "webhook_id": wid,
        }
        return 200, _json_bytes(message), hdrs, message_id

    def _snowflake(self):
        ms = int(time.time() * 1000) - DISCORD_EPOCH_MS
        return str((ms << 22) | (next(self._snowflake_seq) & 0x3FFFFF))

    @staticmethod
    def _channel_id(wid):
        return str(int(hashlib.sha256(f"channel:{wid}".encode()).hexdigest()[:15], 16)
                   | (1 << 60))
