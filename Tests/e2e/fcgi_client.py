"""A small FastCGI client written from the FastCGI 1.0 specification (libfcgi-dev ships it as
fcgi-spec.html), for talking to the service's unix socket directly, the way nginx does, and for
sending records nginx never would.

    resp = request(socket_path, params("GET", "/webhooks", headers={"Authorization": "Bearer …"}))
    resp.status, resp.headers, resp.body, resp.end_request

Every record is an 8-byte header (version, type, requestId, contentLength, paddingLength,
reserved) and then contentLength bytes of content and paddingLength bytes of padding (§3.3).
Name-value pairs carry each length in 1 byte (< 128) or 4 bytes with the high bit set (§3.4).
The builders below take any value for every field, so tests can also lie about them.
"""

import socket
import struct
import time

VERSION_1 = 1

BEGIN_REQUEST = 1
ABORT_REQUEST = 2
END_REQUEST = 3
PARAMS = 4
STDIN = 5
STDOUT = 6
STDERR = 7
DATA = 8
GET_VALUES = 9
GET_VALUES_RESULT = 10
UNKNOWN_TYPE = 11

RESPONDER = 1
AUTHORIZER = 2
FILTER = 3

KEEP_CONN = 1

# END_REQUEST protocolStatus values
REQUEST_COMPLETE = 0
CANT_MPX_CONN = 1
OVERLOADED = 2
UNKNOWN_ROLE = 3

MAX_CONTENT = 0xFFFF
HEADER = struct.Struct(">BBHHBB")


# ---------------------------------------------------------------------------------------------
# Building records

def header(rtype, request_id, content_length, padding_length=0, version=VERSION_1, reserved=0):
    """The 8-byte record header; every field as given (masked to its width), true or not."""
    return HEADER.pack(version & 0xFF, rtype & 0xFF, request_id & 0xFFFF,
                       content_length & 0xFFFF, padding_length & 0xFF, reserved & 0xFF)


def record(rtype, request_id, content=b"", padding=None, version=VERSION_1,
           content_length=None, padding_length=None):
    """One record. Padding defaults to what aligns the record to 8 bytes (as the spec
    recommends). `content_length`/`padding_length` override the header only, not the bytes
    sent after it: a way to make them disagree."""
    if padding is None:
        padding = b"\0" * (-len(content) % 8)
    elif isinstance(padding, int):
        padding = b"\0" * padding
    clen = len(content) if content_length is None else content_length
    plen = len(padding) if padding_length is None else padding_length
    return header(rtype, request_id, clen, plen, version) + content + padding


def begin_request(request_id=1, role=RESPONDER, flags=0):
    """FCGI_BEGIN_REQUEST: role (2 bytes), flags (1 byte), 5 reserved bytes (§5.1)."""
    return record(BEGIN_REQUEST, request_id, struct.pack(">HB5x", role & 0xFFFF, flags & 0xFF))


def abort_request(request_id=1):
    return record(ABORT_REQUEST, request_id)


def encode_length(n, long=None):
    """A name-value length: 1 byte for n < 128, else 4 bytes with the high bit set (§3.4).
    `long=True` forces the 4-byte form (legal for any n < 2**31)."""
    if long is None:
        long = n > 127
    if long:
        return struct.pack(">I", (n & 0x7FFFFFFF) | 0x80000000)
    return struct.pack(">B", n & 0x7F)


def name_value(name, value, name_length=None, value_length=None, long_name=None,
               long_value=None):
    """One name-value pair. The lengths default to the true ones; give them to lie."""
    name = name.encode() if isinstance(name, str) else name
    value = value.encode() if isinstance(value, str) else value
    nlen = len(name) if name_length is None else name_length
    vlen = len(value) if value_length is None else value_length
    return encode_length(nlen, long_name) + encode_length(vlen, long_value) + name + value


def encode_params(params):
    """A name-value pair stream from a dict or a list of (name, value)."""
    items = params.items() if isinstance(params, dict) else params
    return b"".join(name_value(n, v) for n, v in items)


def stream(rtype, request_id, data, chunk=MAX_CONTENT, terminate=True):
    """A stream (PARAMS, STDIN, …): records of at most `chunk` bytes, then the empty record
    that ends the stream (§3.3) when `terminate`."""
    out = []
    for start in range(0, len(data), chunk):
        out.append(record(rtype, request_id, data[start:start + chunk]))
    if terminate:
        out.append(record(rtype, request_id))
    return b"".join(out)


def request_bytes(params, body=b"", request_id=1, keep_conn=False, role=RESPONDER):
    """A whole well-formed request: BEGIN_REQUEST, the PARAMS stream, the STDIN stream."""
    body = body.encode() if isinstance(body, str) else body
    return (begin_request(request_id, role, KEEP_CONN if keep_conn else 0)
            + stream(PARAMS, request_id, encode_params(params))
            + stream(STDIN, request_id, body))


def params(method, uri, body=b"", headers=None, content_type=None, extra=None):
    """The params nginx's stock fastcgi_params would send for this request."""
    path, _, query = uri.partition("?")
    p = {
        "QUERY_STRING": query,
        "REQUEST_METHOD": method,
        "CONTENT_TYPE": content_type or "",
        "CONTENT_LENGTH": str(len(body)) if body else "",
        "SCRIPT_NAME": path,
        "REQUEST_URI": uri,
        "DOCUMENT_URI": path,
        "DOCUMENT_ROOT": "/usr/share/nginx/html",
        "SERVER_PROTOCOL": "HTTP/1.1",
        "REQUEST_SCHEME": "http",
        "GATEWAY_INTERFACE": "CGI/1.1",
        "SERVER_SOFTWARE": "nginx",
        "REMOTE_ADDR": "127.0.0.1",
        "REMOTE_PORT": "40000",
        "SERVER_ADDR": "127.0.0.1",
        "SERVER_PORT": "8080",
        "SERVER_NAME": "localhost",
        "REDIRECT_STATUS": "200",
    }
    for name, value in (headers or {}).items():
        p["HTTP_" + name.upper().replace("-", "_")] = value
    p.update(extra or {})
    return p


# ---------------------------------------------------------------------------------------------
# Reading records

class Record:
    __slots__ = ("version", "type", "request_id", "content")

    def __init__(self, version, rtype, request_id, content):
        self.version, self.type, self.request_id, self.content = version, rtype, request_id, content

    def __repr__(self):
        return f"Record(v{self.version}, type={self.type}, id={self.request_id}, {self.content!r:.60})"


def parse_records(data):
    """-> (records, leftover bytes that do not make a whole record)."""
    records, pos = [], 0
    while len(data) - pos >= HEADER.size:
        version, rtype, rid, clen, plen, _ = HEADER.unpack_from(data, pos)
        end = pos + HEADER.size + clen + plen
        if end > len(data):
            break
        records.append(Record(version, rtype, rid, data[pos + HEADER.size:pos + HEADER.size + clen]))
        pos = end
    return records, data[pos:]


class Response:
    """What came back on one connection for one request id."""

    def __init__(self, raw, request_id=1):
        self.raw = raw
        self.records, self.leftover = parse_records(raw)
        mine = [r for r in self.records if r.request_id == request_id]
        self.stdout = b"".join(r.content for r in mine if r.type == STDOUT)
        self.stderr = b"".join(r.content for r in mine if r.type == STDERR)
        self.end_request = None  # (appStatus, protocolStatus)
        for r in mine:
            if r.type == END_REQUEST and len(r.content) >= 5:
                self.end_request = struct.unpack(">iB", r.content[:5])
        self.status, self.headers, self.body = None, {}, b""
        if self.stdout:
            head, _, self.body = self.stdout.partition(b"\r\n\r\n")
            for line in head.decode("latin-1").split("\r\n"):
                name, sep, value = line.partition(":")
                if sep:
                    self.headers[name.strip().lower()] = value.strip()
            status = self.headers.get("status", "")
            if status[:3].isdigit():
                self.status = int(status[:3])

    @property
    def complete(self):
        return self.end_request is not None

    def json(self):
        import json
        return json.loads(self.body)

    def __repr__(self):
        return (f"Response(status={self.status}, end={self.end_request}, body={self.body[:120]!r}, "
                f"{len(self.raw)} bytes)")


# ---------------------------------------------------------------------------------------------
# Talking

def connect(path, timeout=5.0):
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    sock.settimeout(timeout)
    sock.connect(str(path))
    return sock


def read_all(sock, timeout=5.0, until_end_request=None):
    """Reads until EOF, the deadline, or (when `until_end_request` is a request id) that
    request's END_REQUEST. Returns (bytes, how): how is "eof", "end" or "timeout"; a reset
    connection counts as "eof"."""
    data = bytearray()
    deadline = time.monotonic() + timeout
    while True:
        left = deadline - time.monotonic()
        if left <= 0:
            return bytes(data), "timeout"
        sock.settimeout(left)
        try:
            chunk = sock.recv(65536)
        except socket.timeout:
            return bytes(data), "timeout"
        except ConnectionResetError:
            return bytes(data), "eof"
        if not chunk:
            return bytes(data), "eof"
        data += chunk
        if until_end_request is not None:
            records, _ = parse_records(bytes(data))
            if any(r.type == END_REQUEST and r.request_id == until_end_request for r in records):
                return bytes(data), "end"


def exchange(path, payload, timeout=5.0, half_close=True, request_id=1, wait_end=True):
    """Sends `payload` (bytes, or a list of byte chunks sent one after another) on a fresh
    connection, optionally shuts down our sending side, and reads what comes back.
    -> (Response, how) with how as in read_all, or "refused" / "send-failed"."""
    try:
        sock = connect(path, timeout)
    except OSError:
        return Response(b"", request_id), "refused"
    try:
        chunks = payload if isinstance(payload, list) else [payload]
        try:
            for chunk in chunks:
                sock.sendall(chunk)
            if half_close:
                sock.shutdown(socket.SHUT_WR)
        except OSError:
            data, how = read_all(sock, 0.5)
            return Response(data, request_id), "send-failed"
        data, how = read_all(sock, timeout, request_id if wait_end else None)
        return Response(data, request_id), how
    finally:
        sock.close()


def request(path, params_, body=b"", request_id=1, timeout=10.0):
    """One well-formed request on a fresh connection; the Response (check .complete)."""
    resp, _ = exchange(path, request_bytes(params_, body, request_id), timeout=timeout,
                       half_close=False, request_id=request_id)
    return resp
