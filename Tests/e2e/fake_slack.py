"""A local fake of Slack's incoming webhooks (docs/architecture.md: "Slack"), run in-process, in
the style of fake_discord.py.

    fake = FakeSlack().start()
    url = fake.url("T024BE7LD", "B01ABCDEF12")      # what a user would register
    fake.set_fault("B01ABCDEF12", ("status", 404, "channel_not_found"))
    ... make the service deliver ...
    [got] = fake.wait_for(1, "B01ABCDEF12")
    assert got.body["blocks"][0]["type"] == "header"
    fake.stop()

Like Slack it serves `POST /services/{team}/{webhook}/{secret}` only, and answers in text/plain:
200 `ok`; 400 `invalid_payload` for a body that is not JSON, `no_text` for one without `text` or
`blocks`, `invalid_blocks` for blocks over Slack's documented limits (a header's text at most 150
characters, a section's fields at most 10 of at most 2000, a text object at most 3000, at most 50
blocks and 10 context elements, counted in Unicode scalars like the sender); 404 `no_service` for
a path that is no webhook. Faults are queued or set per webhook id (the B… part):

    ("status", code, text)   that status with that text/plain body (e.g. 404 channel_not_found)
    ("429", seconds)         429 `rate_limited` with Retry-After: seconds
    "drop"                   read the request, close the connection without an answer

Every request is recorded with its arrival time, so a test can check the sender kept to about
one message a second per webhook (`gaps`).
"""

import http.server
import json
import re
import socket
import threading
import time
from dataclasses import dataclass

from fault_plan import FaultPlan

ROUTE_RE = re.compile(r"^/services/(T[A-Z0-9]+)/(B[A-Z0-9]+)/([A-Za-z0-9]+)$")

# Slack's documented limits (api.slack.com/reference/block-kit/blocks, .../composition-objects).
MAX_BLOCKS = 50
MAX_HEADER_TEXT = 150
MAX_SECTION_FIELDS = 10
MAX_FIELD_TEXT = 2000
MAX_TEXT_OBJECT = 3000
MAX_CONTEXT_ELEMENTS = 10


# What Slack reads as a ping in mrkdwn (api.slack.com/reference/surfaces/formatting): a user, a
# user group, or everyone there (`<!here>`, `<!channel>`, `<!everyone>`).
PING_RE = re.compile(r"<(@[UW][A-Z0-9]+|!subteam\^S[A-Z0-9]+|!here|!channel|!everyone)(?:\|[^>]*)?>")


def pinged(body):
    """The pings of a message, in order of first appearance: those of its `text` and of every
    mrkdwn text object in its blocks (plain_text never pings)."""
    texts = [body.get("text") or ""]

    def walk(node):
        if isinstance(node, dict):
            if node.get("type") == "mrkdwn" and isinstance(node.get("text"), str):
                texts.append(node["text"])
            for value in node.values():
                walk(value)
        elif isinstance(node, list):
            for value in node:
                walk(value)

    walk(body.get("blocks") or [])
    return list(dict.fromkeys(m for text in texts for m in PING_RE.findall(text)))


@dataclass
class Received:
    """One request that reached the handler."""
    team: str
    webhook: str
    secret: str
    headers: dict
    body_bytes: bytes
    body: object
    status: int | None  # what the fake answered; None for a dropped connection
    answer: str          # the text/plain body it answered with
    at: float            # time.monotonic() when the request had been read
    path: str = ""
    fault: tuple | None = None


def block_problem(body):
    """Why Slack would refuse this message body (its error code), or None."""
    if not isinstance(body, dict):
        return "invalid_payload"
    text, blocks = body.get("text"), body.get("blocks")
    if text is None and blocks is None:
        return "no_text"
    if text is not None and not isinstance(text, str):
        return "invalid_payload"
    if blocks is None:
        return None
    if not isinstance(blocks, list) or not 1 <= len(blocks) <= MAX_BLOCKS:
        return "invalid_blocks"

    def text_object(obj, limit, kinds=("plain_text", "mrkdwn")):
        return (isinstance(obj, dict) and obj.get("type") in kinds and isinstance(obj.get("text"), str)
                and 1 <= len(obj["text"]) <= limit)

    for block in blocks:
        kind = block.get("type") if isinstance(block, dict) else None
        if kind == "header":
            ok = text_object(block.get("text"), MAX_HEADER_TEXT, ("plain_text",))
        elif kind == "section":
            fields, section_text = block.get("fields"), block.get("text")
            ok = fields is not None or section_text is not None
            if section_text is not None:
                ok = ok and text_object(section_text, MAX_TEXT_OBJECT)
            if fields is not None:
                ok = ok and isinstance(fields, list) and 1 <= len(fields) <= MAX_SECTION_FIELDS and all(
                    text_object(f, MAX_FIELD_TEXT) for f in fields)
        elif kind == "context":
            elements = block.get("elements")
            ok = isinstance(elements, list) and 1 <= len(elements) <= MAX_CONTEXT_ELEMENTS and all(
                text_object(e, MAX_TEXT_OBJECT) for e in elements)
        else:
            ok = False  # the sender uses no other block
        if not ok:
            return "invalid_blocks"
    return None


class _Server(http.server.ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True

    def __init__(self, fake, handler):
        self.fake = fake
        super().__init__((fake.host, 0), handler)

    def handle_error(self, request, client_address):
        pass  # clients that vanish are part of the tests


class _Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "Apache"
    sys_version = ""
    timeout = 60

    def log_message(self, format, *args):  # noqa: A002 - the base class's name
        pass

    def do_POST(self):
        self.server.fake._handle(self, "POST")

    def do_GET(self):
        self.server.fake._handle(self, "GET")


def _normalise_fault(fault):
    kind = str(fault[0]) if isinstance(fault, (tuple, list)) else str(fault)
    if kind == "status" and len(fault) == 3:
        return ("status", int(fault[1]), str(fault[2]))
    if kind == "429":
        return ("429", float(fault[1]) if isinstance(fault, (tuple, list)) and len(fault) > 1 else 1.0)
    if kind == "drop":
        return ("drop",)
    raise ValueError(f"fake Slack: unknown fault {fault!r}")


class FakeSlack:
    host = "127.0.0.1"

    def __init__(self):
        self.port = None
        self._lock = threading.Lock()
        self._changed = threading.Condition(self._lock)
        self._server = None
        self._thread = None
        self._received = []
        self._faults = FaultPlan(_normalise_fault)

    def start(self) -> "FakeSlack":
        self._server = _Server(self, _Handler)
        self.port = self._server.server_address[1]
        self._thread = threading.Thread(target=self._server.serve_forever, kwargs={"poll_interval": 0.05},
                                        name=f"fake-slack:{self.port}", daemon=True)
        self._thread.start()
        return self

    def stop(self):
        if self._server is None:
            return
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=10)
        self._server = self._thread = None

    # -- set-up and inspection ------------------------------------------------------------------

    @property
    def authority(self):
        return f"{self.host}:{self.port}"

    def url(self, team="T024BE7LD", webhook="B01ABCDEF12", secret="abcDEF123xyz789"):
        """The URL a user registers (http: the service runs with allow_insecure_targets)."""
        return f"http://{self.authority}/services/{team}/{webhook}/{secret}"

    def set_fault(self, webhook, *faults):
        """Queues faults for the webhook (its B… id), consumed one per request."""
        with self._lock:
            self._faults.queue(webhook, faults)

    def set_always(self, webhook, fault):
        """A fault for every request to the webhook once its queue is used up; None clears."""
        with self._lock:
            self._faults.always(webhook, fault)

    def received(self, webhook=None):
        with self._lock:
            return [r for r in self._received if webhook is None or r.webhook == webhook]

    def wait_for(self, count, webhook=None, timeout=10.0):
        """Blocks until at least count requests (to the webhook, if given) were received."""
        deadline = time.monotonic() + timeout
        with self._changed:
            while True:
                got = [r for r in self._received if webhook is None or r.webhook == webhook]
                if len(got) >= count:
                    return got
                left = deadline - time.monotonic()
                if left <= 0:
                    raise AssertionError(
                        f"fake Slack: expected {count} request(s) to {webhook or 'any webhook'} within "
                        f"{timeout}s, got {[(r.path, r.status, r.answer) for r in got]}")
                self._changed.wait(left)

    def gaps(self, webhook):
        """Seconds between consecutive arrivals at the webhook."""
        times = [r.at for r in self.received(webhook)]
        return [b - a for a, b in zip(times, times[1:])]

    # -- requests -------------------------------------------------------------------------------

    def _handle(self, h, method):
        length = int(h.headers.get("Content-Length") or 0)
        raw = h.rfile.read(length) if length > 0 else b""
        match = ROUTE_RE.match(h.path)
        team, webhook, secret = match.groups() if match else ("", "", "")
        rec = Received(team=team, webhook=webhook, secret=secret,
                       headers={k.lower(): v for k, v in h.headers.items()}, body_bytes=raw, body=None,
                       status=None, answer="", at=time.monotonic(), path=h.path)
        try:
            rec.body = json.loads(raw.decode("utf-8"))
        except (UnicodeDecodeError, ValueError):
            pass
        with self._lock:
            rec.fault = self._faults.next(webhook)
        headers = {}
        if rec.fault and rec.fault[0] == "drop":
            self._record(rec)
            h.close_connection = True
            try:
                h.connection.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
            return
        if not match or method != "POST":
            rec.status, rec.answer = 404, "no_service"
        elif rec.fault and rec.fault[0] == "status":
            rec.status, rec.answer = rec.fault[1], rec.fault[2]
        elif rec.fault and rec.fault[0] == "429":
            rec.status, rec.answer = 429, "rate_limited"
            headers["Retry-After"] = str(int(rec.fault[1]))
        elif rec.body is None:
            rec.status, rec.answer = 400, "invalid_payload"
        else:
            problem = block_problem(rec.body)
            rec.status, rec.answer = (400, problem) if problem else (200, "ok")
        self._record(rec)
        body = rec.answer.encode()
        h.send_response(rec.status)
        for name, value in headers.items():
            h.send_header(name, value)
        h.send_header("Content-Type", "text/plain; charset=utf-8")
        h.send_header("Content-Length", str(len(body)))
        h.end_headers()
        h.wfile.write(body)

    def _record(self, rec):
        with self._lock:
            self._received.append(rec)
            self._changed.notify_all()
