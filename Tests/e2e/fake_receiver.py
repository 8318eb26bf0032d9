"""A local receiver of `http` webhooks (issue 18, docs/architecture.md: "Signed HTTPS endpoints"),
run in-process, that checks every request with the official Standard Webhooks library from PyPI.

    receiver = FakeReceiver(tls_context=ctx).start()       # or FakeReceiver() for plain HTTP
    url = receiver.url("/hooks/a")                          # what a user registers
    receiver.expect_secrets("/hooks/a", [secret])           # each must verify every request
    receiver.set_fault("/hooks/a", ("status", 503, 1), "drop")
    ... make the service deliver ...
    [got] = receiver.wait_for(1, "/hooks/a")
    assert got.verified and got.body["type"] == "server.started"
    receiver.stop()

Every request to a path with expected secrets is verified with
`standardwebhooks.Webhook(secret).verify(raw_body, headers)` once per secret, separately (after
a rotation each of the two secrets in force must verify on its own); `Received.checks` has each
secret's result, `verified` is True when all passed. The counts over every receiver of the run
are in `TALLY` (verified, failed). A request to a path with no secrets registered is recorded
but not verified (`verified` None).

Faults, queued (`set_fault`) or for every request (`set_always`), per path:

    ("status", code)               that status with a short JSON body
    ("status", code, retry_after)  ... with `Retry-After: retry_after`
    "410"                          410 Gone
    ("redirect", path)             302 with Location: this receiver's URL of path
    "drop"                         read the request, close the connection without an answer
    "endless"                      200, chunked, 16 KiB chunks until the client hangs up
    "huge"                         200, Content-Length 100 MB, written until done or hung up
    "drip"                         200, Content-Length 60, then one byte a second

For the streaming faults the record gets `sent` (body bytes written) and `closed_after` (seconds
from the request's arrival until the client hung up or the write ended).
"""

import http.server
import json
import select
import socket
import ssl
import threading
import time
from dataclasses import dataclass, field

import standardwebhooks

from fault_plan import FaultPlan

HUGE_BYTES = 100 * 1024 * 1024
CHUNK = 16 * 1024

# Over every receiver of this test run: requests the library verified with every expected secret,
# and requests it refused with at least one.
TALLY = {"verified": 0, "failed": 0}


@dataclass
class Received:
    path: str
    headers: dict               # names in lower case
    body_bytes: bytes
    at: float                   # time.monotonic() when the request had been read
    wall: float                 # time.time() then
    method: str = "POST"
    status: int | None = None   # what was answered; None for a dropped connection
    fault: tuple | None = None
    checks: dict = field(default_factory=dict)   # secret -> None (verified) or the error text
    sent: int = 0               # body bytes written (streaming faults)
    closed_after: float | None = None  # seconds from `at` until the connection ended

    @property
    def body(self):
        try:
            return json.loads(self.body_bytes)
        except ValueError:
            return None

    @property
    def verified(self):
        """True: every expected secret verified it; False: one did not; None: none expected."""
        if not self.checks:
            return None
        return all(error is None for error in self.checks.values())

    @property
    def signatures(self):
        return self.headers.get("webhook-signature", "").split(" ")


def _normalise(fault):
    if isinstance(fault, (tuple, list)):
        kind, args = str(fault[0]), tuple(fault[1:])
    else:
        kind, args = str(fault), ()
    if kind == "410":
        kind, args = "status", (410,)
    if kind not in {"status", "redirect", "drop", "endless", "huge", "drip"}:
        raise ValueError(f"fake receiver: unknown fault {fault!r}")
    if kind == "status" and not 1 <= len(args) <= 2:
        raise ValueError(f"fake receiver: ('status', code[, retry_after]), got {fault!r}")
    if kind == "redirect" and len(args) != 1:
        raise ValueError(f"fake receiver: ('redirect', path), got {fault!r}")
    return (kind, *args)


class _Server(http.server.ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True
    request_queue_size = 64

    def __init__(self, receiver):
        self.receiver = receiver
        super().__init__((receiver.host, 0), _Handler)

    def get_request(self):
        sock, addr = self.socket.accept()
        with self.receiver._lock:
            self.receiver.connections += 1
        if self.receiver.tls_context is not None:
            sock = self.receiver.tls_context.wrap_socket(sock, server_side=True,
                                                         do_handshake_on_connect=False)
        with self.receiver._lock:
            self.receiver._open[id(sock)] = sock
        return sock, addr

    def shutdown_request(self, request):
        with self.receiver._lock:
            self.receiver._open.pop(id(request), None)
        super().shutdown_request(request)

    def handle_error(self, request, client_address):
        pass  # clients that hang up are what several tests are about


class _Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    timeout = 30

    def setup(self):
        self.connection = self.request
        self.connection.settimeout(self.timeout)
        if isinstance(self.connection, ssl.SSLSocket):
            self.connection.do_handshake()
        super().setup()

    def log_message(self, format, *args):  # noqa: A002 - the base class's name
        pass

    def do_POST(self):
        self.server.receiver._handle(self, "POST")

    def do_GET(self):
        self.server.receiver._handle(self, "GET")


class FakeReceiver:
    host = "127.0.0.1"

    def __init__(self, tls_context=None):
        self.tls_context = tls_context
        self.port = None
        self._lock = threading.Lock()
        self._changed = threading.Condition(self._lock)
        self._stopping = threading.Event()
        self._server = self._thread = None
        self._open = {}
        self._received = []
        self._faults = FaultPlan(_normalise)
        self._secrets = {}
        self.connections = 0

    # -- lifecycle --------------------------------------------------------------------------

    def start(self):
        self._server = _Server(self)
        self.port = self._server.server_address[1]
        self._thread = threading.Thread(target=self._server.serve_forever,
                                        kwargs={"poll_interval": 0.05},
                                        name=f"fake-receiver:{self.port}", daemon=True)
        self._thread.start()
        return self

    def stop(self):
        server, self._server = self._server, None
        if server is None:
            return
        self._stopping.set()
        server.shutdown()
        with self._lock:
            socks = list(self._open.values())
            self._open.clear()
        for sock in socks:
            try:
                sock.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
        server.server_close()
        self._thread.join(timeout=10)

    # -- set-up and inspection --------------------------------------------------------------

    def url(self, path, host=None, scheme=None):
        scheme = scheme or ("https" if self.tls_context is not None else "http")
        return f"{scheme}://{host or self.host}:{self.port}{path}"

    def expect_secrets(self, path, secrets):
        """The secrets that must each verify every later request to `path`."""
        with self._lock:
            self._secrets[path] = list(secrets)

    def set_fault(self, path, *faults):
        with self._lock:
            self._faults.queue(path, faults)

    def set_always(self, path, fault):
        with self._lock:
            self._faults.always(path, fault)

    def received(self, path=None):
        with self._lock:
            return [r for r in self._received if path is None or r.path == path]

    def wait_for(self, count, path=None, timeout=10.0, ended=False):
        """The requests to `path` once there are at least `count` (with `ended`: once each has
        been answered to the end, or its connection closed)."""
        deadline = time.monotonic() + timeout
        with self._changed:
            while True:
                got = [r for r in self._received if path is None or r.path == path]
                if len(got) >= count and (not ended or all(r.closed_after is not None for r in got)):
                    return got
                left = deadline - time.monotonic()
                if left <= 0:
                    break
                self._changed.wait(left)
        raise AssertionError(f"fake receiver: expected {count} request(s) to {path} within "
                             f"{timeout}s, got {[(r.path, r.status, r.fault) for r in got]}; "
                             f"connections={self.connections}")

    def counts(self):
        """(verified, failed) of this receiver's requests."""
        got = self.received()
        return sum(r.verified is True for r in got), sum(r.verified is False for r in got)

    # -- requests ---------------------------------------------------------------------------

    def _handle(self, h, method):
        length = int(h.headers.get("Content-Length") or 0)
        raw = h.rfile.read(length) if length > 0 else b""
        headers = {name.lower(): value for name, value in h.headers.items()}
        rec = Received(path=h.path, headers=headers, body_bytes=raw, at=time.monotonic(),
                       wall=time.time(), method=method)
        with self._lock:
            secrets = list(self._secrets.get(h.path, []))
            fault = self._faults.next(h.path)
        for secret in secrets:
            try:
                standardwebhooks.Webhook(secret).verify(raw, headers)
                rec.checks[secret] = None
            except Exception as error:  # noqa: BLE001 - any failure is a failed verification
                rec.checks[secret] = f"{type(error).__name__}: {error}"
        if rec.verified is not None:
            TALLY["verified" if rec.verified else "failed"] += 1
        rec.fault = fault
        kind = fault[0] if fault else None
        if kind == "drop":
            self._record(rec, closed=True)
            h.close_connection = True
            try:
                h.connection.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
            return
        if kind in ("endless", "huge", "drip"):
            rec.status = 200
            self._record(rec)
            self._stream(h, rec, kind)
            return
        extra = {}
        if kind == "status":
            rec.status = fault[1]
            body = json.dumps({"error": f"status {fault[1]} as asked"}).encode()
            if len(fault) > 2 and fault[2] is not None:
                extra["Retry-After"] = str(fault[2])
        elif kind == "redirect":
            rec.status = 302
            body = b""
            extra["Location"] = self.url(fault[1])
        else:
            rec.status = 200
            body = b'{"ok":true}'
        self._record(rec, closed=True)
        self._answer(h, rec.status, body, extra)

    def _record(self, rec, closed=False):
        if closed:
            rec.closed_after = 0.0
        with self._changed:
            self._received.append(rec)
            self._changed.notify_all()

    def _ended(self, rec):
        with self._changed:
            rec.closed_after = time.monotonic() - rec.at
            self._changed.notify_all()

    @staticmethod
    def _answer(h, status, body, headers):
        try:
            h.send_response(status)
            for name, value in headers.items():
                h.send_header(name, value)
            h.send_header("Content-Type", "application/json")
            h.send_header("Content-Length", str(len(body)))
            h.end_headers()
            h.wfile.write(body)
            h.wfile.flush()
        except OSError:
            h.close_connection = True

    def _stream(self, h, rec, kind):
        """Writes the streaming answer until it is done or the client hangs up."""
        h.close_connection = True
        chunk = (b"0123456789abcdef" * (CHUNK // 16))
        try:
            h.send_response(200)
            h.send_header("Content-Type", "text/plain")
            if kind == "endless":
                h.send_header("Transfer-Encoding", "chunked")
            elif kind == "huge":
                h.send_header("Content-Length", str(HUGE_BYTES))
            else:
                h.send_header("Content-Length", "60")
            h.end_headers()
            h.wfile.flush()
            if kind == "endless":
                framed = f"{len(chunk):x}\r\n".encode() + chunk + b"\r\n"
                while not self._stopping.is_set() and rec.sent < 16 * HUGE_BYTES:
                    h.wfile.write(framed)
                    rec.sent += len(chunk)
            elif kind == "huge":
                while rec.sent < HUGE_BYTES and not self._stopping.is_set():
                    part = chunk[:HUGE_BYTES - rec.sent]
                    h.wfile.write(part)
                    rec.sent += len(part)
            else:
                # One byte a second; the client has nothing more to send, so anything readable
                # (its FIN, or TLS close_notify) means it hung up.
                for _ in range(60):
                    h.wfile.write(b"x")
                    h.wfile.flush()
                    rec.sent += 1
                    readable, _, _ = select.select([h.connection], [], [], 1.0)
                    if readable or self._stopping.is_set():
                        break
            h.wfile.flush()
        except (OSError, ValueError):
            pass
        finally:
            self._ended(rec)
