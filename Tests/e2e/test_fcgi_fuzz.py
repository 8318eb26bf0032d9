"""The FastCGI socket against crafted records (README, Operations: only nginx should reach the
socket, but a local process in its group can): mutated records, lengths and params sent straight
at `Service.socket` with fcgi_client.py, while valid requests keep going through nginx.

What must hold:
- every valid request through nginx gets its expected status (no 502, no error);
- a worker dies only of the known libfcgi abort (Debian's libfcgi still asserts in Malloc on a
  name-value pair whose lengths overflow an int, the CVE-2025-23016 family), never of anything
  else (a Swift trap, a segfault), and the master replaces every one;
- a request whose framing is whole gets a whole answer: a status below 500 and a JSON body;
- the service answers afterwards.

Sizes and seeds (the defaults are the short run `make test` does; `make fuzz` runs a long one):
  FCGI_FUZZ_CASES   crafted connections to try (default 4000, ~15 s)
  FCGI_FUZZ_SEED    seed (default 23016); a failure names the seed and case index, and
                    `FCGI_FUZZ_ONLY=<case>` replays that one case (`12` or `12:tame`), and
                    its bytes are saved under pytest's tmp_path as case-<case>.bin
The counts (cases, records, kills, replacements, nginx requests) are printed (`pytest -s`) and
kept as the test's user properties (junit XML).
"""

import json
import os
import random
import re
import socket
import struct
import threading
import time
import uuid

import fcgi_client as F
from load import Load
from conftest import JSON_CONTENT_TYPE, discord_url, fake_discord_config, wait_until

CASES = int(os.environ.get("FCGI_FUZZ_CASES", "4000"))
SEED = int(os.environ.get("FCGI_FUZZ_SEED", "23016"))
ONLY = os.environ.get("FCGI_FUZZ_ONLY")
WORKERS = 3
INT_MAX = 0x7FFFFFFF
# A new worker that dies within 2 s makes the master wait before the next one (Supervisor's
# youngDeath); crafted killers are spaced wider so the run measures the service, not the back-off.
KILL_SPACING = 2.3

# What the libfcgi abort looks like in the serve log, and what any other crash looks like.
KNOWN_ABORT_RE = re.compile(r"fcgiapp\.c:\d+: Malloc: Assertion")
CRASH_RE = re.compile(r"Fatal error|Program crashed|Assertion .* failed|Segmentation fault|"
                      r"Illegal instruction|Bus error")
DIED_RE = re.compile(r"pid=(\d+) why=(.*?) \[StellarServer\] worker died")
STARTED_RE = re.compile(r"pid=(\d+) \[StellarServer\] worker started")


# ---------------------------------------------------------------------------------------------
# The crafted cases

def _bytes(value):
    return value.encode() if isinstance(value, str) else value


class Case:
    """One crafted connection. `whole`: the framing is a valid request (only params, lengths
    of the body or values are odd), so a whole answer is owed. `answers`: how many requests on
    the connection are owed one. `close`: close at once after sending (a peer vanishing
    mid-record) instead of half-closing and reading."""

    def __init__(self, label, chunks, whole=False, answers=1, close=False, killer=False):
        self.label, self.chunks, self.whole, self.answers = label, chunks, whole, answers
        self.close, self.killer = close, killer

    @property
    def payload(self):
        return b"".join(self.chunks)


class Fuzzer:
    def __init__(self, user_key, service_key, webhook_id, discord):
        self.user_key, self.service_key, self.webhook_id = user_key, service_key, webhook_id
        self.discord = discord

    def url(self, n):
        """A webhook URL on the fake Discord (the only host allowed: nothing leaves the machine)."""
        return self.discord.url(str(123456789012345678 + n), "tok")

    # -- params ---------------------------------------------------------------------------------

    METHODS = ["GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS", "TRACE", "CONNECT",
               "BREW", "", "get", "G E T", "GET\0POST", "POST ", "\u00c9T\u00c9", b"\xff\xfeGET"]

    def uris(self, rng):
        w = self.webhook_id
        return ["/", "", "webhooks", "//webhooks", "/webhooks/", "/webhooks//", "/webhooks/%2e%2e",
                "/webhooks/../servers/x", "/api/webhooks", "/webhooks/events", f"/webhooks/{w}",
                f"/webhooks/{w}/deliveries", f"/webhooks/{w}/deliveries/{uuid.uuid4()}",
                f"/webhooks/{w}/deliveries/{uuid.uuid4()}/retry", f"/webhooks/{w}/test",
                f"/webhooks/{w.upper()}", f"/webhooks/{w}x", "/webhooks/" + "a" * rng.randrange(1, 20000),
                "/webhooks/\u00e9\u00e8", b"/webhooks/\xff\xfe\xc0\xaf", b"/webhooks\0/x", "/events",
                "/events/", "/servers/srv-1", "/servers/" + "s" * 300, "/servers/%00", "/servers/.",
                "/servers/..", "/nope", "/webhooks?x=1", "*", "/" * 5000]

    def auth(self, rng):
        return rng.choice([
            f"Bearer {self.user_key}", f"Bearer {self.user_key}", f"Bearer {self.service_key}",
            None, "", "Bearer", "Bearer ", "Basic Zm9vOmJhcg==", f"bearer {self.user_key}",
            f"Bearer  {self.user_key}", f"Bearer {self.user_key}x", f"Bearer {self.user_key[:-1]}",
            "Bearer swh_0123456789abcdef_" + "A" * 43, "Bearer swh_zz_zz", "Bearer swh___",
            "Bearer " + "A" * rng.randrange(1, 100000), b"Bearer \xff\xfe\xfd",
            f"Bearer {self.user_key}\0junk", "Bearer swh_" + "\u00e9" * 60])

    def body(self, rng):
        return rng.choice([
            b"", b"{}", b"[]", b"null", b"0", b'"x"', b"{", b"}", b"\xff\xfe\xfd", b"\0" * 10,
            json.dumps({"url": self.url(rng.randrange(1000)), "events": ["server.started"]}).encode(),
            json.dumps({"url": self.url(1), "events": ["SERVER_STARTED"] * 500}).encode(),
            json.dumps({"url": discord_url(1), "events": ["server.started"]}).encode(),  # host refused
            json.dumps({"url": "https://discord.com/api/webhooks/1/\u00e9", "events": ["x"]}).encode(),
            json.dumps({"enabled": False}).encode(), json.dumps({"enabled": "yes"}).encode(),
            json.dumps({"event": "server.started", "serverId": "srv-fuzz"}).encode(),
            json.dumps({"event": "server.started", "serverId": "srv-fuzz", "data": {"n": 1e308}}).encode(),
            json.dumps({"name": "n", "ownerId": "u", "status": "RUNNING"}).encode(),
            b"[" * 20000 + b"]" * 20000, b'{"a":' * 5000 + b"1" + b"}" * 5000,
            b'{"url":"\xed\xa0\x80"}', b'{"url":"\\ud800"}', b'{"events":[' + b'"x",' * 5000 + b'"y"]}',
            b'{"a":1,"a":2}', b"1" * 5000, b'{"url":' + b"9" * 400 + b"}",
            bytes(rng.randrange(256) for _ in range(rng.randrange(1, 300))),
            b"x" * rng.randrange(60000, 70000)])

    def content_length(self, rng, body):
        n = len(body)
        if rng.random() < 0.5:
            return str(n)
        return rng.choice([
            str(n), str(n), "", "-5", "-1", "abc", "0x10", "+5", " 5", "5 ", "1e3", "\u0665",
            str(n + 1), str(max(0, n - 1)), str(n + 100000), "0", "65536", "65537",
            str(2 ** 31), str(2 ** 31 - 1), str(2 ** 32 + n), str(2 ** 63 - 1), str(2 ** 63),
            str(2 ** 64), "9" * 40, "-" + "9" * 40, "-0", "00" + str(n), str(n) + "\0" + "9",
            b"\xff5"])

    def params(self, rng):
        """A request's params: plausible ones, then mutated."""
        body = self.body(rng)
        p = F.params(rng.choice(["GET", "POST", "PATCH", "PUT", "DELETE"]), "/webhooks")
        items = list(p.items())
        params = {k: v for k, v in items}
        params["REQUEST_METHOD"] = rng.choice(self.METHODS)
        uri = rng.choice(self.uris(rng))
        params["DOCUMENT_URI"] = uri
        params["REQUEST_URI"] = rng.choice([uri, _bytes(uri) + b"?limit=1", "/other", b"/\xff"])
        params["QUERY_STRING"] = rng.choice([
            "", "limit=10&offset=0", "limit=-1", "limit=abc&offset=-9", "limit=99999999999999999999",
            "limit=0", "limit=101", "offset=" + "9" * 50, "%zz=%", "&&&==&", b"limit=\xff",
            "a=" + "b" * 10000, "limit=1&limit=2"])
        auth = self.auth(rng)
        if auth is not None:
            params["HTTP_AUTHORIZATION"] = auth
        params["CONTENT_TYPE"] = rng.choice([
            "application/json", "application/json; charset=utf-8", "", "text/plain",
            "application/json; charset=latin1", "APPLICATION/JSON", "application/jsonx",
            "multipart/form-data; boundary=x", b"application/\xff"])
        params["CONTENT_LENGTH"] = self.content_length(rng, body)
        if rng.random() < 0.3:
            params["HTTP_IDEMPOTENCY_KEY"] = rng.choice(["k-" + str(rng.randrange(5)), "", "x" * 5000,
                                                        b"\xff\xfe", "\0"])
        pairs = list(params.items())
        # Drop, duplicate, or add odd pairs.
        for _ in range(rng.randrange(0, 3)):
            if pairs and rng.random() < 0.5:
                pairs.pop(rng.randrange(len(pairs)))
        for _ in range(rng.randrange(0, 3)):
            pairs.insert(rng.randrange(len(pairs) + 1), rng.choice([
                ("", ""), ("", "value"), ("NOEQUALS", ""), ("A=B", "C"), ("=", "="),
                ("REQUEST_METHOD", rng.choice(["DELETE", "GET"])), ("DOCUMENT_URI", "/events"),
                (b"HTTP_\xff\xfe", b"\xff"), ("HTTP_X\0Y", "z\0w"), ("N" * 70000, "v"),
                ("HTTP_X", "v" * rng.choice([127, 128, 255, 256, 65535, 65536, 300000])),
                ("CONTENT_LENGTH", rng.choice(["-5", "abc", "3"])),
                ("HTTP_CONTENT_LENGTH", "-1"), ("HTTP_TRANSFER_ENCODING", "chunked"),
                ("SCRIPT_FILENAME", "/etc/passwd"), ("HTTP_HOST", "\u00e9" * 100)]))
        if rng.random() < 0.02:  # many params
            pairs += [(f"HTTP_X_{i}", "y" * rng.randrange(20)) for i in range(rng.randrange(100, 20000))]
        if rng.random() < 0.05:
            pairs = []
        return pairs, body

    # -- whole requests with odd params -----------------------------------------------------------

    def case_odd_params(self, rng):
        pairs, body = self.params(rng)
        rid = rng.choice([1, 1, 1, 2, 255, 0xFFFF])
        long_forms = rng.random() < 0.3  # 4-byte lengths even where 1 byte would do (legal)
        stream_bytes = b"".join(
            F.name_value(n, v, long_name=long_forms or None, long_value=long_forms or None)
            for n, v in pairs)
        chunk = rng.choice([F.MAX_CONTENT, F.MAX_CONTENT, 7, 8, 1000]
                           + ([1] if len(stream_bytes) < 5000 else []))
        payload = (F.begin_request(rid, rng.choice([F.RESPONDER, F.RESPONDER, F.AUTHORIZER, F.FILTER]),
                                   0)
                   + F.stream(F.PARAMS, rid, stream_bytes, chunk=chunk)
                   + F.stream(F.STDIN, rid, body, chunk=rng.choice(
                       [F.MAX_CONTENT, 9, 4096] + ([1] if len(body) < 5000 else []))))
        return Case("odd-params", [payload], whole=True)

    def case_keep_conn(self, rng):
        """Several whole requests on one connection kept with FCGI_KEEP_CONN: the first is owed
        an answer (libfcgi drops a kept connection whose previous request left STDIN unread, and
        nginx here does not keep connections, so the rest may go unanswered)."""
        n = rng.randrange(2, 5)
        out = []
        for i in range(n):
            pairs, body = self.params(rng)
            out.append(F.begin_request(i + 1, flags=F.KEEP_CONN if i < n - 1 or rng.random() < 0.5 else 0)
                       + F.stream(F.PARAMS, i + 1, F.encode_params(pairs))
                       + F.stream(F.STDIN, i + 1, body))
        return Case("keep-conn", out, whole=True, answers=1)

    # -- broken framing ---------------------------------------------------------------------------

    def valid_payload(self, rng):
        pairs, body = self.params(rng) if rng.random() < 0.5 else (
            list(F.params("GET", "/webhooks", headers={"Authorization": f"Bearer {self.user_key}"}).items()),
            b"")
        return F.request_bytes(pairs, body, request_id=rng.choice([1, 1, 7]))

    def records_of(self, payload):
        records, pos = [], 0
        while len(payload) - pos >= 8:
            _, _, _, clen, plen, _ = F.HEADER.unpack_from(payload, pos)
            end = min(len(payload), pos + 8 + clen + plen)
            records.append((pos, end))
            pos = end
        return records

    def case_header_field(self, rng):
        payload = bytearray(self.valid_payload(rng))
        pos, _ = rng.choice(self.records_of(bytes(payload)))
        field = rng.choice(["version", "type", "id", "clen", "plen", "reserved"])
        if field == "version":
            payload[pos] = rng.choice([0, 2, 3, 0x7F, 0x80, 0xFF])
        elif field == "type":
            payload[pos + 1] = rng.choice([0, 2, 3, 6, 7, 8, 9, 10, 11, 12, 0x7F, 0xFF])
        elif field == "id":
            struct.pack_into(">H", payload, pos + 2, rng.choice([0, 2, 0xFFFF, rng.randrange(65536)]))
        elif field == "clen":
            clen = struct.unpack_from(">H", payload, pos + 4)[0]
            struct.pack_into(">H", payload, pos + 4, rng.choice(
                [0, max(0, clen - 1), min(0xFFFF, clen + 1), min(0xFFFF, clen + 8), 0xFFFF,
                 rng.randrange(65536)]))
        elif field == "plen":
            payload[pos + 6] = rng.choice([1, 7, 8, 9, 0xFF, rng.randrange(256)])
        else:
            payload[pos + 7] = rng.choice([1, 0xFF])
        return Case(f"header-{field}", [bytes(payload)])

    def case_truncated(self, rng):
        payload = self.valid_payload(rng)
        cut = rng.randrange(0, len(payload))
        return Case("truncated", [payload[:cut]], close=rng.random() < 0.5)

    def case_bytes(self, rng):
        payload = bytearray(self.valid_payload(rng))
        for _ in range(rng.randrange(1, 8)):
            op = rng.randrange(3)
            i = rng.randrange(len(payload))
            if op == 0:
                payload[i] ^= 1 << rng.randrange(8)
            elif op == 1:
                payload[i:i] = bytes(rng.randrange(256) for _ in range(rng.randrange(1, 9)))
            elif len(payload) > 1:
                del payload[i:i + rng.randrange(1, 9)]
        return Case("bytes", [bytes(payload)])

    def case_order(self, rng):
        rid = 1
        begin = F.begin_request(rid)
        params = F.stream(F.PARAMS, rid, F.encode_params(F.params("GET", "/webhooks", headers={
            "Authorization": f"Bearer {self.user_key}"})))
        stdin = F.stream(F.STDIN, rid, b"")
        parts = rng.choice([
            [params, begin, stdin], [stdin, begin, params], [begin, stdin, params],
            [begin, begin, params, stdin], [begin, F.begin_request(2), params, stdin],
            [begin, params[:-8], F.abort_request(rid)], [begin, F.abort_request(rid), params, stdin],
            [begin, params[:-8], stdin], [begin, params], [begin], [params, stdin],
            [begin, params, F.record(F.DATA, rid, b"data"), stdin],
            [begin, params, F.record(F.STDOUT, rid, b"Status: 200\r\n\r\n"), stdin],
            [begin, params, F.record(F.END_REQUEST, rid, b"\0" * 8), stdin],
            [F.begin_request(rid, role=rng.choice([0, 4, 0xFFFF])), params, stdin],
            [F.begin_request(rid, flags=0xFF), params, stdin]])
        return Case("order", parts)

    def case_management(self, rng):
        content = rng.choice([
            F.encode_params({"FCGI_MAX_CONNS": "", "FCGI_MAX_REQS": "", "FCGI_MPXS_CONNS": ""}),
            F.encode_params({"X" * 1000: ""}), F.encode_params({"FCGI_MAX_CONNS": "v" * 300}),
            b"\x7f", b"\xff\xff\xff\xff\x00", b"",
            bytes(rng.randrange(256) for _ in range(rng.randrange(1, 200)))])
        rtype = rng.choice([F.GET_VALUES, F.GET_VALUES, F.GET_VALUES_RESULT, F.UNKNOWN_TYPE, 12, 99, 0xFF])
        chunks = [F.record(rtype, 0, content) for _ in range(rng.randrange(1, 4))]
        if rng.random() < 0.5:
            chunks.append(self.valid_payload(rng))
        return Case("management", chunks)

    def case_huge_lengths(self, rng, killer_allowed):
        """A name-value pair with 4-byte lengths near the top of the range. Only pairs whose
        lengths overflow libfcgi's int sum (name + value + 2 > INT_MAX) trip its Malloc
        assertion; those are sent only when `killer_allowed`."""
        while True:
            nlen = rng.choice([INT_MAX, INT_MAX - 1, INT_MAX - 2, INT_MAX - 3, 0x40000000,
                               0x3FFFFFFF, 0x20000000, 0x10000, 0xFFFF, 128, rng.randrange(INT_MAX + 1)])
            vlen = rng.choice([0, 1, 2, INT_MAX, INT_MAX - 1, 0x40000000, 0x3FFFFFFF, 128,
                               rng.randrange(INT_MAX + 1)])
            if rng.random() < 0.5:
                nlen, vlen = vlen, nlen
            overflows = nlen + vlen + 2 > INT_MAX and (nlen, vlen) not in ((INT_MAX, 0), (0, INT_MAX))
            if killer_allowed or not overflows:
                break
        pair = F.name_value(b"N" * rng.randrange(0, 20), b"V" * rng.randrange(0, 20), nlen, vlen, True, True)
        before = F.encode_params(F.params("GET", "/webhooks")) if rng.random() < 0.5 else b""
        tail = b"x" * rng.choice([0, 10, 200, 5000])
        chunks = [F.begin_request(), F.record(F.PARAMS, 1, before + pair + tail)]
        if rng.random() < 0.5:
            chunks.append(F.record(F.PARAMS, 1) + F.record(F.STDIN, 1))
        return Case(f"huge-lengths {nlen:#x}+{vlen:#x}", chunks, killer=overflows)

    def case_garbage(self, rng):
        n = rng.choice([1, 7, 8, 9, 64, 1000, 70000])
        data = bytes(rng.randrange(256) for _ in range(min(n, 4096)))
        return Case("garbage", [(data * (n // len(data) + 1))[:n]], close=rng.random() < 0.3)

    def case_split(self, rng):
        """A whole request written in small pieces: still one request."""
        payload = self.case_odd_params(rng).payload
        if len(payload) > 4000:
            payload = F.request_bytes(F.params("GET", "/webhooks/events", headers={
                "Authorization": f"Bearer {self.user_key}"}))
        size = rng.choice([1, 3, 8, 100])
        return Case("split", [payload[i:i + size] for i in range(0, len(payload), size)], whole=True)

    def make(self, rng, killer_allowed):
        kind = rng.choices(
            ["odd", "keep", "header", "truncated", "bytes", "order", "mgmt", "huge", "garbage", "split"],
            [30, 5, 12, 10, 12, 6, 4, 10, 6, 2])[0]
        return {
            "odd": self.case_odd_params, "keep": self.case_keep_conn, "header": self.case_header_field,
            "truncated": self.case_truncated, "bytes": self.case_bytes, "order": self.case_order,
            "mgmt": self.case_management, "garbage": self.case_garbage, "split": self.case_split,
            "huge": lambda r: self.case_huge_lengths(r, killer_allowed),
        }[kind](rng)


# ---------------------------------------------------------------------------------------------
# Running cases

def send_case(path, case, timeout):
    """-> (list of Responses by request id, how the exchange ended)."""
    try:
        sock = F.connect(path, timeout)
    except OSError as exc:
        return {}, f"connect failed: {exc}"
    try:
        try:
            for chunk in case.chunks:
                sock.sendall(chunk)
            if case.close:
                return {}, "closed"
            sock.shutdown(socket.SHUT_WR)
        except OSError:
            pass  # the worker may have hung up already: read what it said
        data, how = F.read_all(sock, timeout)
    finally:
        sock.close()
    records, _ = F.parse_records(data)
    ids = sorted({r.request_id for r in records if r.type in (F.STDOUT, F.END_REQUEST)})
    return {rid: F.Response(data, rid) for rid in ids}, how


def check_whole(case, responses, how):
    """A whole request is owed a whole answer (per request on the connection): END_REQUEST,
    a JSON body, and a status below 500, but for the one documented 500: a manual send that
    Discord did not take in time ({"success": false, ..., "error"}). None when fine, else why
    not."""
    answered = [r for r in responses.values() if r.complete and r.stdout]
    if len(answered) < case.answers:
        return f"{len(answered)} of {case.answers} requests answered ({how}): {list(responses.values())}"
    for r in answered:
        if r.status is None or not 200 <= r.status < 600:
            return f"status {r.status}: {r!r}"
        if r.status == 204 or not r.body:
            if r.status >= 400:
                return f"an error without a body: {r!r}"
            continue
        if r.headers.get("content-type") != JSON_CONTENT_TYPE:
            return f"content type {r.headers.get('content-type')!r}: {r!r}"
        try:
            value = json.loads(r.body)
        except ValueError:
            return f"not JSON: {r!r}"
        if r.status >= 400 and not (isinstance(value, dict) and isinstance(value.get("error"), str)):
            return f"error without an error message: {r!r}"
        if r.status >= 500 and not (r.status == 500 and value.get("success") is False):
            return f"status {r.status}: {r!r}"
    return None


def nginx_load(svc, key, url, threads=2):
    """Valid requests through nginx from a few threads until stopped: list, create, read back.
    Each call returns None when all went as it should, else what went wrong."""

    def one(thread, n):
        if n % 4 == 3:  # create, read back, delete (users have a webhook limit)
            status, _, body = svc.request("POST", "/webhooks", key=key, body={
                "url": url(thread % 1000 * 100000 + n), "events": ["server.started"]})
            if status != 201:
                return f"POST /webhooks -> {status} {body!r}"
            status, _, got = svc.request("GET", f"/webhooks/{body['id']}", key=key)
            if status != 200 or got.get("id") != body["id"]:
                return f"GET /webhooks/id -> {status} {got!r}"
            status, _, got = svc.request("DELETE", f"/webhooks/{body['id']}", key=key)
            return None if status == 200 else f"DELETE /webhooks/id -> {status} {got!r}"
        path = "/webhooks" if n % 2 else "/webhooks/events"
        status, _, body = svc.request("GET", path, key=key)
        return None if status == 200 else f"GET {path} -> {status} {body!r}"

    return Load(one, threads=threads)


class LogWatch:
    def __init__(self, path):
        self.path, self.offset = path, path.stat().st_size

    def new(self):
        with open(self.path, "rb") as f:
            f.seek(self.offset)
            data = f.read()
        self.offset += len(data)
        return data.decode(errors="replace")


def fuzz_service(make_service, discord):
    svc = make_service(config=fake_discord_config(discord, workers=WORKERS, log_level="debug",
                                                  max_requests=10 ** 9))
    user, key = svc.new_user()
    skey = svc.service_key("panel-fuzz")
    svc.put_server("srv-fuzz", "Fuzz", user)
    hook = svc.create_webhook(key, url=discord.url("123456789012345678", "tok"))
    _, load_key = svc.new_user()  # the valid load through nginx, apart from the crafted requests
    wait_until(lambda: len(svc.worker_pids()) == WORKERS, 20, what="workers")
    return svc, key, skey, hook["id"], load_key


# ---------------------------------------------------------------------------------------------
# Tests

def test_bad_content_length_is_a_400_on_the_same_connection_and_no_worker_dies(make_service):
    svc = make_service(workers=2)
    _, key = svc.new_user()
    workers = wait_until(lambda: len(svc.worker_pids()) == 2 and svc.worker_pids(), 20, what="workers")
    log = LogWatch(svc.serve_log)
    auth = {"Authorization": f"Bearer {key}"}
    for length in ["-5", "abc"]:
        bad = F.params("POST", "/webhooks", headers=auth, content_type="application/json",
                       extra={"CONTENT_LENGTH": length})
        with F.connect(svc.socket, 10) as sock:
            sock.sendall(F.request_bytes(bad, b'{"url":"x"}'))
            data, how = F.read_all(sock, 10, until_end_request=1)
        answer = F.Response(data, 1)
        assert answer.complete and answer.end_request == (0, F.REQUEST_COMPLETE), (length, how, answer)
        assert answer.status == 400, (length, answer)
        assert answer.headers.get("content-type") == JSON_CONTENT_TYPE, answer.headers
        assert answer.json() == {"error": "Invalid Content-Length"}, answer
        # The same worker (or its sibling) serves the next request.
        good = F.request(svc.socket, F.params("GET", "/webhooks", headers=auth))
        assert good.complete and good.status == 200 and good.json() == [], (length, good)
    time.sleep(0.5)  # a dying worker would be reaped and logged by now
    assert svc.worker_pids() == workers, "a worker died"
    text = log.new()
    assert "worker died" not in text and not CRASH_RE.search(text), text[-3000:]


def case_for(fuzzer, index, allow_killer):
    """Case `index` of the seed: (name, Case). A case that would trip libfcgi's abort while
    killers are being spaced out is swapped for its "tame" variant, named `index:tame`."""
    case = fuzzer.make(random.Random(f"{SEED}:{index}"), True)
    if case.killer and not allow_killer:
        return f"{index}:tame", fuzzer.make(random.Random(f"{SEED}:{index}:tame"), False)
    return str(index), case


def save_case(tmp_path, name, case):
    path = tmp_path / f"case-{name.replace(':', '-')}.bin"
    path.write_bytes(case.payload)
    return (f"case {name} ({case.label}, seed {SEED}; FCGI_FUZZ_ONLY={name} replays it; its "
            f"bytes: {path}, close={'at once' if case.close else 'half, then read'})")


def test_crafted_fastcgi_records_kill_no_worker_but_libfcgis_known_abort(make_service, discord,
                                                                         record_property, tmp_path):
    svc, key, skey, webhook_id, load_key = fuzz_service(make_service, discord)
    fuzzer = Fuzzer(key, skey, webhook_id, discord)
    log = LogWatch(svc.serve_log)
    log_text = []
    tried = records = whole_answered = 0
    kills, unknown_crashes, unanswered, outcomes, statuses = [], [], [], {}, {}
    last_kill = 0.0
    start = time.monotonic()
    indices = [int(ONLY.split(":")[0])] if ONLY is not None else range(CASES)

    with nginx_load(svc, load_key, fuzzer.url) as load:
        for index in indices:
            allow_killer = time.monotonic() - last_kill > KILL_SPACING
            if ONLY is not None:
                allow_killer = not ONLY.endswith(":tame")
            name, case = case_for(fuzzer, index, allow_killer)
            responses, how = send_case(svc.socket, case, timeout=20)
            tried += 1
            records += len(fuzzer.records_of(case.payload)) or 1
            outcomes[how] = outcomes.get(how, 0) + 1
            if case.whole:
                problem = check_whole(case, responses, how)
                if problem:
                    unanswered.append(f"{save_case(tmp_path, name, case)}: {problem}\n  "
                                      f"payload[:300]={case.payload[:300]!r}")
                else:
                    whole_answered += 1
                    for r in responses.values():
                        statuses[r.status] = statuses.get(r.status, 0) + 1
            # A crash writes its message before the process (and our connection) goes away.
            text = log.new()
            log_text.append(text)
            if CRASH_RE.search(text) or KNOWN_ABORT_RE.search(text):
                if KNOWN_ABORT_RE.search(text):
                    kills.append((name, case.label))
                    last_kill = time.monotonic()
                else:
                    unknown_crashes.append(f"{save_case(tmp_path, name, case)}: payload[:400] "
                                           f"{case.payload[:400].hex()}\n{text[:1500]}")
            # "Many at once": every 250 cases, a burst of 16 crafted connections in parallel.
            if index % 250 == 249 and ONLY is None:
                burst_rng = random.Random(f"{SEED}:burst:{index}")
                burst = [fuzzer.make(burst_rng, False) for _ in range(16)]
                threads = [threading.Thread(target=send_case, args=(svc.socket, c, 20)) for c in burst]
                for t in threads:
                    t.start()
                for t in threads:
                    t.join(60)
                tried += len(burst)
                records += sum(len(fuzzer.records_of(c.payload)) or 1 for c in burst)
        elapsed = time.monotonic() - start
        # Every killed worker replaced: back to WORKERS live workers, none of them a dead one.
        time.sleep(0.5)
        log_text.append(log.new())
        full = "".join(log_text)
        died = DIED_RE.findall(full)
        dead = {int(pid) for pid, _ in died}
        wait_until(lambda: (lambda p: p if len(p) == WORKERS and not p & dead else None)(
            svc.worker_pids()), 30, what=f"{WORKERS} live workers after {len(died)} deaths")
        time.sleep(1)  # a little more load against the replaced set

    started = {int(pid) for pid in STARTED_RE.findall(full)}
    full += log.new()
    nginx_ok = load.results.count(None)
    nginx_failures = [r for r in load.results if r] + [f"no answer: {e}" for e in load.errors]
    summary = {
        "seed": SEED, "cases": tried, "records": records, "seconds": round(elapsed, 1),
        "known_libfcgi_aborts": len(kills), "workers_died": len(died),
        "workers_started_after": len(started), "whole_requests_answered": whole_answered,
        "nginx_ok": nginx_ok, "nginx_failed": len(nginx_failures), "outcomes": outcomes,
        "answer_statuses": dict(sorted(statuses.items(), key=lambda kv: str(kv[0]))),
    }
    print(f"\nFastCGI fuzz: {json.dumps(summary)}")
    for name, value in summary.items():
        record_property(name, value)
    assert not unknown_crashes, "a worker crashed other than libfcgi's known abort:\n" + \
        "\n".join(unknown_crashes[:5])
    assert not nginx_failures, f"{len(nginx_failures)} of {nginx_ok + len(nginx_failures)} valid " \
        f"requests through nginx failed: {nginx_failures[:5]}"
    assert nginx_ok > 50, f"the nginx load barely ran: {nginx_ok}"
    assert not unanswered, f"{len(unanswered)} whole requests got no whole answer:\n" + \
        "\n".join(unanswered[:5])
    assert all(why == "killed by signal 6" for _, why in died), died
    assert len(died) == len(KNOWN_ABORT_RE.findall(full)), \
        f"{len(died)} workers died, {len(KNOWN_ABORT_RE.findall(full))} of libfcgi's abort"
    assert len(started) >= len(died), f"{len(died)} died, only {len(started)} started after"
    # The service answers afterwards, directly and through nginx.
    resp = F.request(svc.socket, F.params("GET", "/webhooks/events", headers={
        "Authorization": f"Bearer {key}"}))
    assert resp.complete and resp.status == 200, resp
    assert svc.request("GET", "/webhooks", key=key)[0] == 200
    if ONLY is None and CASES >= 1000:
        assert kills, "no crafted record reached libfcgi's abort: the huge-length cases are not arriving"


def test_a_worker_that_lost_the_race_for_a_connection_does_not_cut_off_the_next(make_service):
    """The read watchdog times the reading of a connection, never a worker's wait for one: a
    worker that waited seconds (or woke for a connection another took) must still allow the
    connection it takes its whole 5 s, not cut it off mid-read when a timer started earlier ran out."""
    svc = make_service(workers=2)
    _, key = svc.new_user()
    wait_until(lambda: len(svc.worker_pids()) == 2, 20, what="workers")
    auth = {"Authorization": f"Bearer {key}"}
    time.sleep(5.5)  # both workers idle, waiting for a connection
    # A client that stops mid-record wakes both; one worker takes it and stays in its read (until
    # the watchdog cuts it off), so the next connection can only go to the other one.
    with F.connect(svc.socket) as silent:
        silent.sendall((F.begin_request() + F.record(F.PARAMS, 1, b"\x0e\x03REQUEST_METHODGET"))[:20])
        time.sleep(4.5)
        # A request whose reading straddles the 5 s since the silent client woke both workers.
        whole = F.request_bytes(F.params("GET", "/webhooks", headers=auth))
        begin = len(F.begin_request())
        with F.connect(svc.socket, 10) as sock:
            sock.sendall(whole[:begin])
            time.sleep(1.0)
            try:
                sock.sendall(whole[begin:])
                data, how = F.read_all(sock, 10, until_end_request=1)
            except OSError as exc:  # the worker closed it
                data, how = b"", repr(exc)
    answer = F.Response(data, 1)
    assert answer.complete and answer.status == 200, \
        f"a request read 4.5 to 5.5 s after a connection woke both workers was cut off ({how}): {answer}"


def test_the_connection_stays_open_until_the_request_has_ended(make_service):
    """Apache's mod_proxy_fcgi sends the empty record that ends STDIN in a write of its own,
    after the params. A worker that closed the connection as soon as it had answered (it closes
    at once rather than wait for the web server's close) made that write fail, and Apache answer
    503: the answer may wait, the connection must stay open until the request has ended."""
    svc = make_service(workers=1)
    _, key = svc.new_user()
    params = F.params("GET", "/webhooks", headers={"Authorization": f"Bearer {key}"})
    with F.connect(svc.socket, 10) as sock:
        sock.sendall(F.begin_request() + F.stream(F.PARAMS, 1, F.encode_params(params)))
        time.sleep(0.5)  # the worker has read the params by now
        sock.sendall(F.record(F.STDIN, 1))  # raises BrokenPipeError if it closed meanwhile
        data, how = F.read_all(sock, 10, until_end_request=1)
    answer = F.Response(data, 1)
    assert answer.complete and answer.status == 200, (how, answer)


def test_a_request_the_watchdog_cut_off_is_answered_408_and_not_acted_on(make_service):
    """libfcgi takes a read the watchdog interrupted for the end of the params. A client that
    sends every param of a DELETE but stalls before ending the stream must get a 408, and the
    webhook must still be there."""
    svc = make_service(workers=1)
    _, key = svc.new_user()
    hook = svc.create_webhook(key)
    params = F.params("DELETE", f"/webhooks/{hook['id']}", headers={"Authorization": f"Bearer {key}"})
    with F.connect(svc.socket, 15) as sock:
        sock.sendall(F.begin_request() + F.stream(F.PARAMS, 1, F.encode_params(params), terminate=False))
        data, how = F.read_all(sock, 15, until_end_request=1)
    answer = F.Response(data, 1)
    assert answer.complete and answer.status == 408, (how, answer)
    assert answer.json() == {"error": "Request timeout"}, answer
    status, _, body = svc.request("GET", f"/webhooks/{hook['id']}", key=key)
    assert status == 200, f"a DELETE whose params never ended was carried out: {status} {body}"


def test_silent_clients_on_the_socket_do_not_hold_the_workers(make_service):
    """A local client that stops mid-record without closing must not keep a worker forever:
    with one such client per worker, requests through nginx still get answered (the helper's
    socket hangs up on silent clients after 5 s; this allows the FastCGI socket 15 s)."""
    svc = make_service(workers=2)
    _, key = svc.new_user()
    wait_until(lambda: len(svc.worker_pids()) == 2, 20, what="workers")
    held = []
    try:
        # (A client that sends nothing at all libfcgi drops itself after 2 s.)
        for cut in (5, 20):  # stops inside a header, and inside a record's content
            held.append(F.connect(svc.socket))
            held[-1].sendall((F.begin_request() + F.record(F.PARAMS, 1, b"\x0e\x03REQUEST_METHODGET"))[:cut])
        time.sleep(0.5)  # both accepted by now: every worker is in a read that may never end
        started = time.monotonic()
        try:
            status, _, body = svc.request("GET", "/webhooks", key=key, timeout=20)
        except OSError as exc:
            status, body = None, repr(exc)
        took = time.monotonic() - started
        assert status == 200 and took < 15, \
            f"with {len(held)} silent clients on the socket, GET /webhooks through nginx -> " \
            f"{status} {body!r} after {took:.1f}s: the workers wait on them forever"
    finally:
        for sock in held:
            sock.close()
    assert "worker died" not in svc.serve_log.read_text()
    wait_until(lambda: len(svc.worker_pids()) == 2, 10, what="2 workers")
    assert svc.request("GET", "/webhooks", key=key)[0] == 200
