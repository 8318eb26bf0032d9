"""End-to-end harness: nginx + `stellar-webhooks serve` in a temporary run folder.

Fixtures
- `svc`: one service per test module (fast); tests keep apart by using fresh user ids.
- `make_service(config=None, **env)`: fresh services for tests that need their own configuration
  or that kill things. Keyword arguments become STELLAR_WEBHOOKS_<KEY> environment overrides.

Everything started here is stopped by pid on teardown, also on failure; a failing test's report
carries the tail of every live service's log.
"""

import http.client
import json
import os
import re
import shutil
import signal
import socket
import stat
import subprocess
import tempfile
import time
import uuid
from pathlib import Path

import pytest

from fake_discord import FakeDiscord
from fake_slack import FakeSlack
from openapi_check import check_response

REPO_ROOT = Path(__file__).resolve().parents[2]
BIN = REPO_ROOT / os.environ.get("STELLAR_WEBHOOKS_BIN", ".build/debug/stellar-webhooks")
RENDER_NGINX = REPO_ROOT / "nginx" / "render-dev-conf"
KEEP_RUN_DIRS = os.environ.get("STELLAR_WEBHOOKS_E2E_KEEP") == "1"
# The store every service in this run uses: `files` (data_dir) or `postgres` (a throwaway cluster
# started for the run, one database per service).
STORE = os.environ.get("STELLAR_E2E_STORE", "files")
PG_CLUSTER = REPO_ROOT / "Tests" / "pg" / "cluster"


class Postgres:
    """The run's throwaway PostgreSQL cluster (Tests/pg/cluster), started on first use."""

    def __init__(self):
        self.folder = tempfile.mkdtemp(prefix="swh-pg-", dir="/tmp")
        self.cluster = f"{self.folder}/c"
        self.url = subprocess.run([str(PG_CLUSTER), "start", self.cluster], check=True,
                                  capture_output=True, text=True).stdout.strip()
        self.made = 0

    def sql(self, statement, database="webhooks"):
        subprocess.run(["psql", "-q", "-v", "ON_ERROR_STOP=1", self.database_url(database), "-c", statement],
                       check=True, capture_output=True, text=True)

    def database_url(self, name):
        return self.url.replace("/webhooks?", f"/{name}?")

    def new_database(self):
        self.made += 1
        name = f"swh_{os.getpid()}_{self.made}"
        self.sql(f"CREATE DATABASE {name}")
        return name

    def drop_database(self, name):
        self.sql(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")

    def pg_ctl(self, *args):
        subprocess.run([str(PG_CLUSTER), "pg_ctl", self.cluster, *args], check=True,
                       capture_output=True, timeout=60)

    def stop(self):
        subprocess.run([str(PG_CLUSTER), "stop", self.cluster], capture_output=True)
        shutil.rmtree(self.folder, ignore_errors=True)


_postgres = None


def postgres():
    global _postgres
    if _postgres is None:
        _postgres = Postgres()
    return _postgres


def pytest_sessionfinish(session, exitstatus):
    if _postgres is not None:
        _postgres.stop()

# ---------------------------------------------------------------------------------------------
# The contract (docs/architecture.md: "A request", "A delivery")

DISCORD_URL = "https://discord.com/api/webhooks/123456789012345678/abcDEF_-tok"

EVENTS = [
    "server.started", "server.stopped", "server.crashed", "server.restarted",
    "server.auto_shutdown", "server.created", "server.deleted", "server.updated",
    "server.suspended", "server.unsuspended", "backup.created", "backup.failed",
    "backup.restored", "backup.deleted", "transfer.started", "transfer.completed",
    "transfer.failed", "file.created", "file.deleted", "file.modified", "resource.warning",
    "resource.critical",
]
CATEGORIES = ["server", "backup", "transfer", "file", "resource"]

WEBHOOK_KEYS = {"id", "userId", "url", "events", "serverId", "enabled", "provider", "server",
                "_count", "createdAt", "updatedAt"}
WEBHOOK_OPTIONAL_KEYS = {"disabledReason", "mentions", "threadPerServer", "statusCard", "statusCardOnly"}
DELIVERY_KEYS = {"id", "webhookId", "event", "payload", "statusCode", "response", "attempts",
                 "deliveredAt", "createdAt", "status", "nextAttemptAt", "error", "retryOf", "threadId",
                 "card", "action", "messageId"}
SUMMARY_KEYS = {"id", "event", "status", "statusCode", "attempts", "deliveredAt", "createdAt"}

JSON_CONTENT_TYPE = "application/json; charset=utf-8"
ISO_RE = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$")
UUID_RE = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$")
KEY_RE = re.compile(r"^swh_([0-9a-f]{16})_(\S+)$")


def discord_url(n=0):
    """A distinct valid Discord webhook URL per n."""
    return f"https://discord.com/api/webhooks/{123456789012345678 + n}/tok-{n}_X"


def unique_id(prefix):
    return f"{prefix}-{uuid.uuid4().hex[:12]}"


def assert_error(status, body, expected_status, message=None):
    """An error answer: the status, and a JSON object with a string `error` (exactly `message`
    when given)."""
    assert status == expected_status, f"expected {expected_status}, got {status}: {body!r}"
    assert isinstance(body, dict), f"error body is not a JSON object: {body!r}"
    assert isinstance(body.get("error"), str), body
    if message is not None:
        assert body["error"] == message, body


def detail_fields(body):
    """The fields named by a `Validation failed` answer (first element of each detail's `path`,
    which may go deeper, e.g. ["events", 0]), after checking the answer's shape."""
    assert isinstance(body, dict) and body.get("error") == "Validation failed", body
    details = body.get("details")
    assert isinstance(details, list) and details, body
    for d in details:
        assert isinstance(d.get("code"), str) and d["code"], d
        assert isinstance(d.get("message"), str) and d["message"], d
        assert isinstance(d.get("path"), list) and d["path"], d
    return {d["path"][0] for d in details}


def wait_until(predicate, timeout, interval=0.05, what="condition"):
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout}s waiting for {what}")
        time.sleep(interval)


# ---------------------------------------------------------------------------------------------
# Processes

def _proc_stat(pid):
    try:
        with open(f"/proc/{pid}/stat") as f:
            data = f.read()
    except OSError:
        return None
    # comm may contain spaces and parentheses: the fields after it follow the last ')'.
    fields = data[data.rindex(")") + 2:].split()
    return fields  # fields[0] = state, fields[1] = ppid


def alive(pid):
    fields = _proc_stat(pid)
    return fields is not None and fields[0] not in ("Z", "X")


def child_pids(pid):
    children = []
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            fields = _proc_stat(entry)
            if fields and int(fields[1]) == pid and fields[0] not in ("Z", "X"):
                children.append(int(entry))
    return children


def descendants(pid):
    found, todo = [], [pid]
    while todo:
        for child in child_pids(todo.pop()):
            found.append(child)
            todo.append(child)
    return found


def argv(pid):
    try:
        with open(f"/proc/{pid}/cmdline", "rb") as f:
            return [a.decode(errors="replace") for a in f.read().split(b"\0") if a]
    except OSError:
        return []


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def accepts_soon(proc, port, timeout=10):
    """Whether the server `proc` accepts on 127.0.0.1:`port` within `timeout` seconds (False as
    soon as it exits: most likely the port was taken meanwhile)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline and proc.poll() is None:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=1):
                return True
        except OSError:
            time.sleep(0.05)
    return False


def clean_env(overrides=None):
    """This process's environment without any STELLAR_WEBHOOKS_* variable, plus `overrides`
    (config key -> value, turned into STELLAR_WEBHOOKS_<KEY>)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("STELLAR_WEBHOOKS_")}
    for key, value in (overrides or {}).items():
        env[f"STELLAR_WEBHOOKS_{key.upper()}"] = str(value)
    return env


def run_binary(args, env=None, timeout=60, attempts=3):
    """Runs the binary; retries a failed exec (the binary may be being rebuilt)."""
    if not BIN.exists():
        pytest.fail(f"binary not found: {BIN} (set STELLAR_WEBHOOKS_BIN)")
    for attempt in range(attempts):
        try:
            return subprocess.run([str(BIN), *args], env=env, capture_output=True, text=True,
                                  timeout=timeout)
        except OSError:
            if attempt == attempts - 1:
                raise
            time.sleep(2)


def service_default_workers():
    """How many workers `serve` starts when none are configured, as `check-config` reports it
    (the benchmarks run the service as shipped)."""
    with tempfile.NamedTemporaryFile("w", suffix=".conf") as empty:
        out = run_binary(["check-config", "--config", empty.name], env=clean_env()).stdout
    found = re.match(r"configuration OK: (\d+) workers", out)
    assert found, f"check-config said: {out!r}"
    return int(found.group(1))


def _stop(proc, sig, timeout):
    if proc is None or proc.poll() is not None:
        return
    try:
        proc.send_signal(sig)
        proc.wait(timeout)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait(10)


def tail(path, lines=60):
    try:
        return "\n".join(Path(path).read_text(errors="replace").splitlines()[-lines:])
    except OSError:
        return f"({path} not readable)"


LIVE_SERVICES = []


class Service:
    """One run folder: config file, data_dir, socket, nginx on a free port, `serve` logs."""

    def __init__(self, config=None, env=None):
        self.run_dir = Path(tempfile.mkdtemp(prefix="swh-e2e-"))
        os.chmod(self.run_dir, 0o711)  # nginx's workers (nobody) must reach the socket
        self.data_dir = self.run_dir / "data"
        self.socket = self.run_dir / "fcgi.sock"
        self.config_path = self.run_dir / "stellar-webhooks.conf"
        self.serve_log = self.run_dir / "serve.log"
        self.nginx_log = self.run_dir / "nginx.log"
        self.env = clean_env(env)
        self.config = {
            "data_dir": str(self.data_dir),
            "socket": str(self.socket),
            "workers": "2",
            "socket_mode": "0660",
        }
        if os.geteuid() == 0:
            self.config["socket_group"] = "nogroup"
        self.database = None
        if STORE == "postgres":
            self.database = postgres().new_database()
            self.config["database_url"] = postgres().database_url(self.database)
        self.config.update({k: str(v) for k, v in (config or {}).items()})
        self.write_config()
        self.serve = None
        self.nginx = None
        self.port = None
        # Where this service is reached when not at its configured socket (one inherited as fd 0).
        self.reached_at = None
        # What nginx passes requests to when not only this service's own socket.
        self.upstream_override = None

    # -- lifecycle --------------------------------------------------------------------------

    def write_config(self, **changes):
        self.config.update({k: str(v) for k, v in changes.items()})
        text = "# written by Tests/e2e/conftest.py\n" + "".join(
            f"{k} = {v}\n" for k, v in self.config.items())
        self.config_path.write_text(text)

    @property
    def base_url(self):
        return f"http://127.0.0.1:{self.port}"

    @property
    def master_pid(self):
        return self.serve.pid

    def start_nginx_only(self):
        """nginx alone, in front of `upstreams` (other services' sockets): a front for several hosts."""
        LIVE_SERVICES.append(self)
        self._start_nginx()
        return self

    def start(self, timeout=30, stdin=subprocess.DEVNULL, answering=True):
        """Starts serve and nginx. `stdin` may be a listening socket for serve to inherit as fd 0
        (as under spawn-fcgi or systemd's StandardInput=socket). Returns once the application
        answers through nginx, or (`answering=False`) once both are listening."""
        if not BIN.exists():
            pytest.fail(f"binary not found: {BIN} (set STELLAR_WEBHOOKS_BIN)")
        LIVE_SERVICES.append(self)
        for attempt in range(3):  # the binary may be being rebuilt: retry a failed exec
            try:
                with open(self.serve_log, "ab") as log:
                    self.serve = subprocess.Popen(
                        [str(BIN), "serve", "--config", str(self.config_path)],
                        stdin=stdin, stdout=log, stderr=log, env=self.env,
                        start_new_session=True)
                break
            except OSError:
                if attempt == 2:
                    raise
                time.sleep(2)
        deadline = time.monotonic() + timeout
        while not self.listening():
            if self.serve.poll() is not None:
                self.fail_start(f"serve exited with {self.serve.returncode} before its socket")
            if time.monotonic() > deadline:
                self.fail_start("serve did not create its socket")
            time.sleep(0.05)
        self._start_nginx()
        # Ready when the application itself answers (401: no key), not nginx's 502.
        while answering:
            try:
                status, _, _ = self.request("GET", "/webhooks", timeout=5)
                if status == 401:
                    return self
            except OSError:
                pass
            if self.serve.poll() is not None:
                self.fail_start(f"serve exited with {self.serve.returncode}")
            if time.monotonic() > deadline:
                self.fail_start("the application did not answer through nginx")
            time.sleep(0.1)
        return self

    @property
    def upstreams(self):
        return self.upstream_override or [self.connect_address]

    @property
    def connect_address(self):
        """Where to reach the listener: `*:PORT` and `:PORT` listen on every interface."""
        address = self.reached_at or self.listen_address
        if address.startswith("/"):
            return address
        host, port = address.rsplit(":", 1)
        return f"{host if host not in ('', '*') else '127.0.0.1'}:{port}"

    @property
    def listen_address(self):
        """The `socket` setting: a unix socket path, or HOST:PORT."""
        return self.config["socket"]

    def listening(self):
        address = self.connect_address
        if address.startswith("/"):
            path = Path(address)
            return path.exists() and stat.S_ISSOCK(path.stat().st_mode)
        host, port = self.connect_address.rsplit(":", 1)
        try:
            with socket.create_connection((host, int(port)), timeout=1):
                return True
        except OSError:
            return False

    def _start_nginx(self):
        for _ in range(5):
            self.port = free_port()
            subprocess.run([str(RENDER_NGINX), str(self.run_dir), str(self.port), *self.upstreams],
                           check=True)
            with open(self.nginx_log, "ab") as log:
                self.nginx = subprocess.Popen(
                    ["nginx", "-p", str(self.run_dir), "-c", str(self.run_dir / "nginx.conf")],
                    stdin=subprocess.DEVNULL, stdout=log, stderr=log, start_new_session=True)
            if accepts_soon(self.nginx, self.port):
                return
            _stop(self.nginx, signal.SIGTERM, 5)  # most likely the port was taken meanwhile
        self.fail_start("nginx did not start")

    def fail_start(self, why):
        logs = self.logs()
        self.stop()
        pytest.fail(f"{why}\n{logs}", pytrace=False)

    def stop(self):
        """Stops nginx, then serve (SIGTERM, then SIGKILL), then any child serve left behind."""
        _stop(self.nginx, signal.SIGTERM, 10)
        if self.serve is not None and self.serve.poll() is None:
            children = descendants(self.serve.pid)
            _stop(self.serve, signal.SIGTERM, 20)
            for pid in children:
                if alive(pid) and str(BIN.name) in " ".join(argv(pid)):
                    os.kill(pid, signal.SIGKILL)
        if self in LIVE_SERVICES:
            LIVE_SERVICES.remove(self)

    def restart(self):
        self.stop()
        return self.start()

    def cleanup(self):
        self.stop()
        if self.database is not None:
            postgres().drop_database(self.database)
        if not KEEP_RUN_DIRS:
            shutil.rmtree(self.run_dir, ignore_errors=True)

    def logs(self, lines=60):
        return (f"--- serve log ({self.serve_log}) ---\n{tail(self.serve_log, lines)}\n"
                f"--- nginx error log ---\n{tail(self.run_dir / 'nginx-error.log', 20)}")

    # -- the store itself, read and edited behind the service's back (stop it first) ---------------

    def psql(self, statement):
        """Rows of this service's database, as lists of strings (select a record as `::jsonb`,
        one line)."""
        out = subprocess.run(["psql", "-qAtX", "-F", "\t", "-v", "ON_ERROR_STOP=1",
                              postgres().database_url(self.database), "-c", statement],
                             check=True, capture_output=True, text=True).stdout
        return [line.split("\t") for line in out.splitlines() if line]

    def _delivery_file(self, user, webhook_id, delivery_id):
        return self.data_dir / "users" / user / "webhooks" / webhook_id / "deliveries" / f"{delivery_id}.json"

    def stored_deliveries(self, user, webhook_id):
        """Every delivery record of a webhook, as the store keeps it."""
        if self.database:
            return [json.loads(r[0]) for r in self.psql(
                f"SELECT record::jsonb FROM deliveries WHERE webhook_id = '{webhook_id}'")]
        folder = self._delivery_file(user, webhook_id, "x").parent
        return [json.loads(p.read_text()) for p in folder.glob("*.json")]

    def stored_delivery_exists(self, user, webhook_id, delivery_id):
        if self.database:
            return bool(self.psql(f"SELECT 1 FROM deliveries WHERE id = '{delivery_id}'"))
        return self._delivery_file(user, webhook_id, delivery_id).exists()

    def edit_stored_delivery(self, user, webhook_id, delivery_id, **changes):
        if self.database:
            record = json.loads(self.psql(f"SELECT record::jsonb FROM deliveries WHERE id = '{delivery_id}'")[0][0])
            record.update(changes)
            text = json.dumps(record, indent=2, sort_keys=True).replace("'", "''")
            pending = "true" if record["status"] == "pending" else "false"
            self.psql(f"UPDATE deliveries SET record = '{text}', created_at = '{record['createdAt']}', "
                      f"pending = {pending} WHERE id = '{delivery_id}'")
            return
        path = self._delivery_file(user, webhook_id, delivery_id)
        record = json.loads(path.read_text())
        record.update(changes)
        path.write_text(json.dumps(record, indent=2, ensure_ascii=False) + "\n")

    def edit_stored_webhook(self, user, webhook_id, edit):
        """Rewrites a stored webhook record with `edit` (a function changing the record, a dict,
        in place): on files, appended to the user's log as a change of it, as an update is."""
        if self.database:
            record = json.loads(self.psql(f"SELECT record::jsonb FROM webhooks WHERE id = '{webhook_id}'")[0][0])
            edit(record)
            text = json.dumps(record, sort_keys=True).replace("'", "''")
            self.psql(f"UPDATE webhooks SET record = '{text}' WHERE id = '{webhook_id}'")
            return
        log = self.data_dir / "users" / user / "webhooks.jsonl"
        lines = [json.loads(line) for line in log.read_text().splitlines()]
        last = next(line for line in reversed(lines) if (line.get("webhook") or {}).get("id") == webhook_id)
        record = last["webhook"]
        edit(record)
        with log.open("a") as appended:
            appended.write(json.dumps({"live": lines[-1]["live"], "webhook": record}, ensure_ascii=False) + "\n")

    def copy_stored_delivery(self, user, webhook_id, delivery_id, count):
        """Adds `count` copies of a stored delivery (new ids, the same record otherwise), as if
        queued after everything else: a long history without sending anything. Returns their ids."""
        ids = [str(uuid.uuid4()) for _ in range(count)]
        if self.database:
            rows = ",".join(f"('{new_id}', {n})" for n, new_id in enumerate(ids, 1))
            self.psql(
                f"INSERT INTO deliveries (id, webhook_id, position, created_at, pending, record) "
                f"SELECT c.id, d.webhook_id, w.delivery_count + c.n, d.created_at, d.pending, "
                f"jsonb_set(d.record::jsonb, '{{id}}', to_jsonb(c.id))::text "
                f"FROM deliveries d JOIN webhooks w ON w.id = d.webhook_id, (VALUES {rows}) AS c (id, n) "
                f"WHERE d.id = '{delivery_id}'; "
                f"UPDATE webhooks SET delivery_count = delivery_count + {count} WHERE id = '{webhook_id}'")
            return ids
        record = json.loads(self._delivery_file(user, webhook_id, delivery_id).read_text())
        for new_id in ids:
            path = self._delivery_file(user, webhook_id, new_id)
            path.write_text(json.dumps({**record, "id": new_id}, indent=2, ensure_ascii=False) + "\n")
        with open(path.parent.parent / "deliveries.idx", "a") as index:  # fixed-width records
            index.write("".join(f"{new_id}\n" for new_id in ids))
        return ids

    def stored_answers(self):
        """Idempotent answers kept: {name: record}."""
        if self.database:
            return {r[0]: json.loads(r[1]) for r in self.psql("SELECT name, record::jsonb FROM idempotent_answers")}
        return {p.stem: json.loads(p.read_text()) for p in (self.data_dir / "idempotency").glob("*.json")}

    def edit_stored_answer(self, name, **changes):
        if self.database:
            record = json.loads(self.psql(f"SELECT record::jsonb FROM idempotent_answers WHERE name = '{name}'")[0][0])
            record.update(changes)
            text = json.dumps(record, indent=2, sort_keys=True).replace("'", "''")
            self.psql(f"UPDATE idempotent_answers SET record = '{text}', created_at = '{record['createdAt']}' "
                      f"WHERE name = '{name}'")
            return
        path = self.data_dir / "idempotency" / f"{name}.json"
        record = json.loads(path.read_text())
        record.update(changes)
        path.write_text(json.dumps(record, indent=2, ensure_ascii=False) + "\n")

    def worker_pids(self):
        """The master's live children that are workers (`stellar-webhooks worker ...`)."""
        return {pid for pid in child_pids(self.serve.pid) if "worker" in argv(pid)[1:3]}

    def helper_pids(self):
        """The master's live children that are delivery helpers (`stellar-webhooks deliver`)."""
        return {pid for pid in child_pids(self.serve.pid) if "deliver" in argv(pid)[1:3]}

    # -- HTTP -------------------------------------------------------------------------------

    def request(self, method, path, body=None, key=None, headers=None, raw=None, timeout=30):
        """-> (status, headers, JSON value or text). `body` is sent as JSON; `raw` as is."""
        send_headers = {}
        data = None
        if raw is not None:
            data = raw.encode() if isinstance(raw, str) else raw
        elif body is not None:
            data = json.dumps(body).encode()
            send_headers["Content-Type"] = "application/json"
        if key is not None:
            send_headers["Authorization"] = f"Bearer {key}"
        send_headers.update(headers or {})
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=timeout)
        try:
            conn.request(method, path, body=data, headers=send_headers)
            resp = conn.getresponse()
            payload = resp.read()
        finally:
            conn.close()
        check_response(method, path, resp.status, resp.headers, payload)  # docs/openapi.yaml
        text = payload.decode("utf-8", errors="replace")
        parsed = text
        if "json" in (resp.headers.get("Content-Type") or ""):
            try:
                parsed = json.loads(text)
            except ValueError:
                pass
        return resp.status, resp.headers, parsed

    # -- CLI and shortcuts ------------------------------------------------------------------

    def cli_command(self, *args):
        """argv for running the CLI yourself (e.g. to kill it midway); use with `self.env`."""
        return [str(BIN), *args, "--config", str(self.config_path)]

    def cli(self, *args, check=True, timeout=60):
        result = run_binary([*args, "--config", str(self.config_path)], env=self.env,
                            timeout=timeout)
        if check and result.returncode != 0:
            raise AssertionError(f"`stellar-webhooks {' '.join(args)}` exited "
                                 f"{result.returncode}\nstdout: {result.stdout}\n"
                                 f"stderr: {result.stderr}")
        return result

    def _key(self, *args):
        out = self.cli("keys", "create", *args).stdout.strip().splitlines()
        assert out, "keys create printed nothing"
        key = out[-1].strip()
        assert KEY_RE.match(key), f"not a key: {key!r}"
        return key

    def user_key(self, user_id, label="e2e"):
        return self._key("--user", user_id, "--label", label)

    def service_key(self, name="panel", label="e2e"):
        return self._key("--service", name, "--label", label)

    def put_server(self, server_id, name, owner, status=None):
        extra = ["--status", status] if status else []
        self.cli("servers", "put", server_id, "--name", name, "--owner", owner, *extra)
        return server_id

    def new_user(self):
        """A fresh user id and its key: keeps tests sharing one service apart."""
        user_id = unique_id("user")
        return user_id, self.user_key(user_id)

    def new_server(self, owner, name="My MC", status="RUNNING"):
        return self.put_server(unique_id("srv"), name, owner, status)

    def create_webhook(self, key, events=("server.started",), url=DISCORD_URL, **fields):
        status, _, body = self.request("POST", "/webhooks", key=key,
                                       body={"url": url, "events": list(events), **fields})
        assert status == 201, (status, body)
        return body

    def webhook(self, key, webhook_id):
        status, _, body = self.request("GET", f"/webhooks/{webhook_id}", key=key)
        assert status == 200, (status, body)
        return body

    def post_event(self, service_key, event, server_id, data=None, headers=None):
        body = {"event": event, "serverId": server_id}
        if data is not None:
            body["data"] = data
        return self.request("POST", "/events", key=service_key, body=body, headers=headers)

    def deliveries(self, key, webhook_id, limit=100):
        """The webhook's deliveries, newest first."""
        status, _, body = self.request("GET", f"/webhooks/{webhook_id}/deliveries?limit={limit}",
                                       key=key)
        assert status == 200, (status, body)
        return body["deliveries"]

    def wait_for_deliveries(self, key, webhook_id, count=1, status=None, timeout=15):
        """Waits until the webhook has `count` deliveries, all finished (or all of `status`);
        returns them newest first."""
        def done():
            found = self.deliveries(key, webhook_id)
            wanted = (lambda d: d["status"] == status) if status else (lambda d: d["status"] != "pending")
            return found if len(found) >= count and all(map(wanted, found)) else None
        return wait_until(done, timeout, interval=0.1,
                          what=f"{count} {status or 'finished'} deliveries of {webhook_id}")

    def delivery_total(self, key, webhook_id):
        status, _, body = self.request("GET", f"/webhooks/{webhook_id}/deliveries?limit=1",
                                       key=key)
        assert status == 200, (status, body)
        return body["total"]


# ---------------------------------------------------------------------------------------------
# Fixtures and hooks

@pytest.fixture(scope="module")
def svc():
    service = Service()
    try:
        yield service.start()
    finally:
        service.cleanup()


@pytest.fixture
def discord():
    """A fake Discord (fake_discord.py) on a free loopback port, stopped after the test."""
    fake = FakeDiscord().start()
    try:
        yield fake
    finally:
        fake.stop()


def fake_discord_config(fake, **more):
    """Configuration that sends to `fake`: its host:port allowed, loopback and http allowed."""
    return {"allow_insecure_targets": "true", "discord_hosts": f"127.0.0.1:{fake.port}", **more}


@pytest.fixture
def slack():
    """A fake Slack (fake_slack.py) on a free loopback port, stopped after the test."""
    fake = FakeSlack().start()
    try:
        yield fake
    finally:
        fake.stop()


def fake_slack_config(fake, **more):
    """Configuration that sends Slack's webhooks to `fake`, like fake_discord_config."""
    return {"allow_insecure_targets": "true", "slack_hosts": fake.authority, **more}


@pytest.fixture
def make_service():
    made = []

    def factory(config=None, start=True, **env):
        service = Service(config=config, env=env)
        made.append(service)
        return service.start() if start else service

    try:
        yield factory
    finally:
        for service in made:
            service.cleanup()


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    outcome = yield
    report = outcome.get_result()
    if report.failed:
        for service in LIVE_SERVICES:
            report.sections.append((f"stellar-webhooks logs ({service.run_dir})", service.logs()))


def pytest_configure(config):
    config.addinivalue_line("markers", "files_only: about the flat-file store's own files; not run on PostgreSQL")
    config.addinivalue_line("markers", "postgres_only: about the PostgreSQL store; run only on it")


def pytest_collection_modifyitems(config, items):
    for item in items:
        if STORE == "postgres" and "files_only" in item.keywords:
            item.add_marker(pytest.mark.skip(reason="the flat-file store's own files"))
        if STORE != "postgres" and "postgres_only" in item.keywords:
            item.add_marker(pytest.mark.skip(reason="needs STELLAR_E2E_STORE=postgres"))
