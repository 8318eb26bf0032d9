"""Chaos under load: creates, patches, deletes and test sends of webhooks, events and servers
through nginx from a few threads, while workers, the delivery helper and the master are
SIGKILLed at random instants (seeded). Afterwards, with the service up again and drained, every
2xx is a promise kept (README, Operations and Delivery: "a 2xx means the change is on disk",
"Nothing lost"):

- a created webhook exists unless later deleted with a 2xx; a 2xx patch is what GET shows
  unless a later 2xx patch or delete replaced it; a 2xx delete stays deleted (404);
- every delivery acknowledged by a 202 from POST /events reaches the fake Discord at least once;
  every test send answered 200 reached it and is recorded as delivered;
- the stable server's status card (a webhook with statusCardOnly; each event follows a PUT of the
  server's status `S-n`) is left on a state no older than the last acknowledged event's: the last
  card the fake accepted shows `S-k`, k at least the last acknowledged PUT before that event;
- a webhook that collapses the stable event has a record of every acknowledged event, each
  delivered and naming the message that carried it (the first `post`, the others `collapsed`);
- a 2xx PUT/DELETE /servers is what `servers list` shows;
- every file in data_dir parses (*.json is JSON, each webhooks.jsonl whole lines of JSON whose
  `live` counts agree with a replay, deliveries.idx whole 37-byte `uuid\\n` records), nothing
  is in outbox-rejected, and no `.tmp-*` or torn log line older than the last start remains.

Requests that got no answer, or a 5xx (nginx's 502 while the master is down), may have happened
or not. A 4xx is a refusal: it must not have happened, and it must be explained (a 404 after a
delete whose outcome is unknown).

  CHAOS_ROUNDS  kill rounds (default 6, the short run `make test` does; `make chaos` runs more)
  CHAOS_SEED    seed for what is killed when and what the load does (default 4242)
The counts are printed (`pytest -s`) and kept as the test's user properties.
"""

import json
import os
import random
import re
import signal
import stat
import subprocess
import threading
import time
from collections import Counter
from pathlib import Path

from conftest import BIN, alive, descendants, fake_discord_config, wait_until
from fake_discord import FakeDiscord

ROUNDS = int(os.environ.get("CHAOS_ROUNDS", "6"))
SEED = int(os.environ.get("CHAOS_SEED", "4242"))
WORKERS = 3
CHURN_THREADS = 2
STABLE_EVENT = "server.started"
CHURN_EVENTS = ["backup.created", "backup.failed", "server.stopped", "file.created",
                "resource.warning", "transfer.started"]
UUID_LINE = re.compile(rb"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}\n$")
DISCORD_ID = re.compile(r"/webhooks/(\d{17,20})/")


def outcome(status):
    if status is not None and 200 <= status < 300:
        return "ack"
    if status is not None and 400 <= status < 500:
        return "refused"
    return "unknown"  # no answer, or a 5xx


class Op:
    __slots__ = ("kind", "target", "state", "status", "body", "error", "sent_at", "took")

    def __init__(self, kind, target=None, state=None):
        self.kind, self.target, self.state = kind, target, state
        self.status = self.body = self.error = None
        self.sent_at = self.took = 0.0

    @property
    def outcome(self):
        return outcome(self.status)

    def __repr__(self):
        return f"{self.kind} {self.target} {self.state} -> {self.status} {self.error or ''}{str(self.body)[:200]}"


class Chaos:
    def __init__(self, svc, fake, rng):
        self.svc, self.fake, self.rng = svc, fake, rng
        self.ops = []
        self.lock = threading.Lock()
        self.stop = threading.Event()
        self.problems = []          # promises broken as they are answered (wrong answers)
        self.discord_ids = iter(range(300000000000000000, 400000000000000000, 7))
        self.kills = Counter()
        self.kill_log = []          # (monotonic start, monotonic end, kind) of each kill
        self.restarts = []          # wall-clock times of master starts
        self.happened_unanswered = []  # creates answered 5xx or not at all that happened

    def next_discord_id(self):
        with self.lock:
            return str(next(self.discord_ids))

    def call(self, op, method, path, key, body=None, headers=None):
        op.sent_at = time.monotonic()
        try:
            op.status, _, op.body = self.svc.request(method, path, body=body, key=key,
                                                     headers=headers, timeout=90)
        except Exception as exc:  # noqa: BLE001 - no answer: outcome unknown
            op.error = repr(exc)
        op.took = time.monotonic() - op.sent_at
        with self.lock:
            self.ops.append(op)
        return op

    # -- the load --------------------------------------------------------------------------------

    def churn(self, index, user, key):
        """One user's webhooks, used by this thread only, so each webhook's history is a
        sequence: create, patches and test sends, then perhaps a delete."""
        rng = random.Random(f"{SEED}:churn:{index}")
        live = {}   # webhook id -> history (list of Op)
        unknown_creates = {}  # Discord id -> a create whose outcome is unknown
        maybe_deleted = {}    # webhook id -> history, for deletes whose outcome is unknown
        self.histories[user] = {}
        while not self.stop.is_set():
            kind = rng.choices(["create", "patch", "delete", "test", "list"], [4, 5, 2, 2, 1])[0]
            if kind != "create" and not live or kind == "create" and len(live) >= 20:
                kind = "list" if kind == "create" else "create"
            if (unknown_creates or maybe_deleted) and rng.random() < 0.3:
                kind = "list"  # find out which of them happened
            if kind == "create":
                did = self.next_discord_id()
                state = (did, tuple(sorted(rng.sample(CHURN_EVENTS, rng.randrange(1, 4)))), True)
                op = self.call(Op("create", None, state), "POST", "/webhooks", key,
                               {"url": self.fake.url(did, "tok"), "events": list(state[1])})
                if op.outcome == "ack":
                    op.target = op.body["id"]
                    live[op.target] = self.histories[user][op.target] = [op]
                    self.check_answer(op, op.body)
                else:
                    self.histories[user].setdefault(None, []).append(op)
                    if op.outcome == "unknown":
                        unknown_creates[did] = op
            elif kind == "patch":
                wid = rng.choice(sorted(live))
                did = self.next_discord_id()
                state = (did, tuple(sorted(rng.sample(CHURN_EVENTS, rng.randrange(1, 4)))),
                         rng.random() < 0.7)
                op = self.call(Op("patch", wid, state), "PATCH", f"/webhooks/{wid}", key,
                               {"url": self.fake.url(did, "tok"), "events": list(state[1]),
                                "enabled": state[2]})
                live[wid].append(op)
                if op.outcome == "ack":
                    self.check_answer(op, op.body)
            elif kind == "delete":
                wid = rng.choice(sorted(live))
                op = self.call(Op("delete", wid), "DELETE", f"/webhooks/{wid}", key)
                live.pop(wid).append(op)
                if op.outcome == "unknown":
                    maybe_deleted[wid] = self.histories[user][wid]
            elif kind == "test":
                wid = rng.choice(sorted(live))
                op = self.call(Op("test", wid), "POST", f"/webhooks/{wid}/test", key)
                live[wid].append(op)
                if op.outcome == "ack" and not (isinstance(op.body, dict) and op.body.get("success") is True):
                    self.problem(f"test send answered {op.status} without success: {op!r}")
            else:
                op = self.call(Op("list"), "GET", "/webhooks", key)
                if op.outcome == "refused":
                    self.problem(f"GET /webhooks refused: {op!r}")
                elif op.outcome == "ack":
                    # Creates that were not answered but happened: from now on, tracked ones.
                    for w in op.body:
                        create = unknown_creates.pop(webhook_state(w)[0], None)
                        if create is not None and w["id"] not in self.histories[user]:
                            create.target = w["id"]
                            live[w["id"]] = self.histories[user][w["id"]] = [create]
                            self.happened_unanswered.append(create)
                    unknown_creates.clear()  # the rest did not happen (or happen no more)
                    for w in op.body:  # deletes that did not happen: used again
                        if w["id"] in maybe_deleted:
                            live[w["id"]] = maybe_deleted.pop(w["id"])
                    maybe_deleted.clear()
            if op.outcome == "unknown":
                time.sleep(0.05)  # the master may be down: do not spin on nginx's 502s

    def events(self, skey):
        """Events about the stable server (its owner's stable webhooks receive each), and
        churn servers put and deleted."""
        rng = random.Random(f"{SEED}:events")
        n = 0
        servers = {f"chaos-srv-{i}": [] for i in range(4)}
        self.server_histories = servers
        while not self.stop.is_set():
            if rng.random() < 0.8:
                n += 1
                # The status the card must reach: each event follows a PUT of the server's status.
                put = self.call(Op("stable-status", n), "PUT", f"/servers/{self.stable_server}", skey,
                                {"name": "Chaos", "ownerId": self.stable_owner, "status": f"S-{n}"})
                self.stable_statuses.append(put)
                headers = {"Idempotency-Key": f"chaos-{SEED}-{n}"} if rng.random() < 0.5 else None
                op = self.call(Op("event", n), "POST", "/events", skey,
                               {"event": STABLE_EVENT, "serverId": self.stable_server,
                                "data": {"n": n}}, headers)
                wanted = len(self.stable_hooks) + 2  # and the card's, and the collapsing webhook's
                if op.outcome == "ack" and not (op.status == 202 and isinstance(op.body, dict)
                                                and op.body.get("deliveries") == wanted):
                    self.problem(f"POST /events acknowledged, but not {wanted} deliveries: {op!r}")
                time.sleep(rng.uniform(0, 0.05))
            else:
                sid = rng.choice(sorted(servers))
                if rng.random() < 0.75:
                    name = f"name-{n}-{rng.randrange(1000)}"
                    op = self.call(Op("server-put", sid, name), "PUT", f"/servers/{sid}", skey,
                                   {"name": name, "ownerId": self.server_owner, "status": "RUNNING"})
                else:
                    op = self.call(Op("server-delete", sid, None), "DELETE", f"/servers/{sid}", skey)
                servers[sid].append(op)

    def check_answer(self, op, body):
        did, events, enabled = op.state
        got = webhook_state(body)
        if got != op.state:
            self.problem(f"{op.kind} answered {op.status} with {got}, asked for {op.state}")

    def problem(self, text):
        with self.lock:
            self.problems.append(text)

    # -- the killing -----------------------------------------------------------------------------

    def kill_worker(self):
        pids = sorted(self.svc.worker_pids())
        if not pids:
            return False
        os.kill(self.rng.choice(pids), signal.SIGKILL)
        return True

    def kill_helper(self):
        pids = sorted(self.svc.helper_pids())
        if not pids:
            return False
        os.kill(pids[0], signal.SIGKILL)
        return True

    def kill_master(self):
        """kill -9 the master; its workers and helper leave by themselves (finishing what is in
        hand); then `serve` again on the same configuration, as Service.start() starts it."""
        svc = self.svc
        children = descendants(svc.serve.pid)
        os.kill(svc.serve.pid, signal.SIGKILL)
        svc.serve.wait(10)
        # While an old worker still holds the listening socket, a new master refuses the path
        # as in use: wait for them all, as an operator (or systemd) would.
        wait_until(lambda: not any(alive(pid) for pid in children), 60,
                   what=f"the killed master's children {children} to leave")
        self.start_master()
        return True

    def start_master(self):
        svc = self.svc
        with open(svc.serve_log, "ab") as log:
            svc.serve = subprocess.Popen([str(BIN), "serve", "--config", str(svc.config_path)],
                                         stdin=subprocess.DEVNULL, stdout=log, stderr=log,
                                         env=svc.env, start_new_session=True)
        self.restarts.append(time.time())

        def ready():
            if svc.serve.poll() is not None:
                raise AssertionError(f"serve exited with {svc.serve.returncode}\n{svc.logs()}")
            try:  # the old master's children are gone: only the new one can answer
                return svc.request("GET", "/webhooks", timeout=5)[0] == 401
            except OSError:
                return False
        wait_until(ready, 30, interval=0.05, what="the restarted master to answer through nginx")

    def kill(self, kind):
        start = time.monotonic()
        done = {"worker": self.kill_worker, "helper": self.kill_helper, "master": self.kill_master}[kind]()
        if done:
            self.kills[kind] += 1
            self.kill_log.append((start, time.monotonic(), kind))
        return done

    def near_a_kill(self, op):
        """Whether a worker or master kill fell while `op` was in flight."""
        return any(start - 0.2 <= op.sent_at + op.took and op.sent_at <= end + 0.2
                   for start, end, kind in self.kill_log if kind != "helper")


def webhook_state(body):
    if not isinstance(body, dict):
        return None
    m = DISCORD_ID.search(body.get("url") or "")
    return (m.group(1) if m else body.get("url"), tuple(sorted(body.get("events") or [])),
            body.get("enabled"))


def possible_final(history):
    """What the webhook may finally be, from its history (create first): the state of the last
    acknowledged change, or that of any later change whose outcome is unknown; "gone" for a
    delete. Unknown changes that got no answer at all may land at any time after they were sent,
    so they stay possible even after a later acknowledged one."""
    possible, floating = set(), set()
    for op in history:
        effect = "gone" if op.kind == "delete" else op.state
        if op.kind not in ("create", "patch", "delete"):
            continue
        if op.outcome == "ack":
            possible = {effect}
        elif op.outcome == "unknown":
            possible.add(effect)
            if op.status is None or op.status == 504:
                floating.add(effect)
    return possible | floating


def check_data_dir(data_dir, last_start):
    """Every *.json parses, every webhooks.jsonl is whole lines whose counts agree with a replay,
    every deliveries.idx is whole uuid records, outbox-rejected is empty,
    and no .tmp-* older than the last start remains. -> (problems, counts)."""
    problems, counts = [], Counter()
    for path in Path(data_dir).rglob("*"):
        try:
            info = path.lstat()
        except FileNotFoundError:
            continue  # removed meanwhile (outbox entries, idempotency pruning)
        if path.name.startswith(".tmp-"):
            if info.st_mtime < last_start:
                problems.append(f"stray temp file left after start: {path}")
            continue
        if not stat.S_ISREG(info.st_mode):
            continue
        if "outbox-rejected" in path.parts:
            problems.append(f"outbox entry the helper could not read: {path}")
        if path.suffix == ".json":
            counts["json"] += 1
            try:
                json.loads(path.read_bytes())
            except FileNotFoundError:
                continue
            except ValueError as exc:
                problems.append(f"not JSON: {path}: {exc}: {path.read_bytes()[:200]!r}")
        elif path.name == "webhooks.jsonl":
            counts["webhook logs"] += 1
            data = path.read_bytes()
            if data and not data.endswith(b"\n"):
                # A writer killed mid-append since the last start leaves a torn line that no
                # reader takes and the next writer (or start) cuts off.
                if info.st_mtime < last_start:
                    problems.append(f"{path}: a torn last line left after start: {data[-200:]!r}")
                counts["torn lines"] += 1
                data = data[:data.rfind(b"\n") + 1]
            live = set()
            for number, line in enumerate(data.splitlines()):
                try:
                    change = json.loads(line)
                except ValueError as exc:
                    problems.append(f"{path}: line {number} is not JSON: {exc}: {line[:200]!r}")
                    break
                if "webhook" in change:
                    live.add(change["webhook"]["id"])
                else:
                    live.discard(change["removed"])
                if change["live"] != len(live):
                    problems.append(f"{path}: line {number} says live {change['live']}, replay has {len(live)}")
                    break
        elif path.name == "deliveries.idx":
            counts["idx"] += 1
            data = path.read_bytes()
            if len(data) % 37:
                problems.append(f"{path}: {len(data)} bytes, not whole 37-byte records")
            for i in range(0, len(data) - len(data) % 37, 37):
                if not UUID_LINE.match(data[i:i + 37]):
                    problems.append(f"{path}: record {i // 37} is {data[i:i + 37]!r}")
                    break
    return problems, counts


def test_chaos_kills_under_load_lose_nothing_acknowledged(make_service, record_property):
    fake = FakeDiscord(limit=100000, window=1.0).start()
    try:
        run_chaos(make_service, fake, record_property)
    finally:
        fake.stop()


def run_chaos(make_service, fake, record_property):
    rng = random.Random(f"{SEED}:kills")
    svc = make_service(config=fake_discord_config(
        fake, workers=WORKERS, retry_schedule="1,1,1,1,1,1,1,1,1,1", delivery_timeout=3,
        global_rate_limit=1000))
    chaos = Chaos(svc, fake, rng)
    chaos.histories = {}
    chaos.restarts.append(time.time() - 3600)
    skey = svc.service_key("panel-chaos")
    owner, owner_key = svc.new_user()
    chaos.stable_server = svc.new_server(owner, name="Chaos", status="S-0")
    chaos.stable_owner = owner
    chaos.stable_statuses = []
    chaos.stable_hooks = []
    for _ in range(2):
        did = chaos.next_discord_id()
        svc.create_webhook(owner_key, events=[STABLE_EVENT], url=fake.url(did, "tok"))
        chaos.stable_hooks.append(did)
    chaos.card_hook = chaos.next_discord_id()
    svc.create_webhook(owner_key, events=[STABLE_EVENT], url=fake.url(chaos.card_hook, "tok"),
                       statusCard=True, statusCardOnly=True)
    collapsing = svc.create_webhook(owner_key, events=[STABLE_EVENT], url=fake.url(chaos.next_discord_id(), "tok"),
                                    collapse={"events": [STABLE_EVENT], "windowSeconds": 86400})
    chaos.server_owner, _ = svc.new_user()
    users = [svc.new_user() for _ in range(CHURN_THREADS)]

    threads = [threading.Thread(target=chaos.churn, args=(i, user, key), daemon=True)
               for i, (user, key) in enumerate(users)]
    threads.append(threading.Thread(target=chaos.events, args=(skey,), daemon=True))
    started = time.monotonic()
    for t in threads:
        t.start()
    try:
        # Each kind once, in a seeded order, then at random.
        first = rng.sample(["worker", "helper", "master"], 3)
        for round_ in range(ROUNDS):
            time.sleep(rng.uniform(0.2, 1.5))
            kind = first[round_] if round_ < 3 else rng.choices(["worker", "helper", "master"], [5, 3, 2])[0]
            if not chaos.kill(kind):  # none alive just now (being replaced): wait and retry
                time.sleep(0.5)
                chaos.kill(kind)
        time.sleep(0.5)
    finally:
        chaos.stop.set()
        for t in threads:
            t.join(120)
    chaos_seconds = time.monotonic() - started
    assert not any(t.is_alive() for t in threads), "a load thread is stuck"

    # Up again: workers and a helper.
    wait_until(lambda: len(svc.worker_pids()) == WORKERS and svc.helper_pids(), 30,
               what=f"{WORKERS} workers and a helper")

    # -- deliveries: every acknowledged event reaches both stable webhooks ------------------------
    ops = list(chaos.ops)
    events_acked = [op for op in ops if op.kind == "event" and op.outcome == "ack"]
    expected = {(str(op.target), did) for op in events_acked for did in chaos.stable_hooks}

    def delivered():
        seen = set()
        for rec in fake.received():
            try:
                fields = rec.body["embeds"][0].get("fields", [])
            except (TypeError, KeyError, IndexError):
                continue
            for f in fields:
                if f.get("name") == "N":
                    seen.add((str(f.get("value")), rec.webhook_id))
        return seen

    deadline = time.monotonic() + 60 + len(expected) / 20
    while time.monotonic() < deadline and not expected <= delivered():
        time.sleep(0.5)
    missing_deliveries = expected - delivered()

    # -- the status card: on a state no older than the last acknowledged event's ----------------
    last_event = max((op.target for op in events_acked), default=0)
    floor = max((op.target for op in chaos.stable_statuses if op.outcome == "ack" and op.target <= last_event),
                default=0)

    def card_state():
        """k of the `S-k` the last card the fake accepted shows (-1 before any)."""
        accepted = [r for r in fake.received(chaos.card_hook) if r.status is not None and 200 <= r.status < 300]
        if not accepted:
            return -1
        fields = {f["name"]: f["value"] for f in accepted[-1].body["embeds"][0]["fields"]}
        return int(fields["Status"].removeprefix("S-"))

    card_deadline = time.monotonic() + 30
    while time.monotonic() < card_deadline and card_state() < floor:
        time.sleep(0.5)
    card_found = card_state()

    # -- the collapsing webhook: a record of every acknowledged event, each saying what carried it -
    def collapse_records():
        records, offset = [], 0
        while True:
            status, _, page = svc.request(
                "GET", f"/webhooks/{collapsing['id']}/deliveries?limit=100&offset={offset}", key=owner_key)
            assert status == 200, (status, page)
            records += page["deliveries"]
            offset += 100
            if offset >= page["total"]:
                return records

    collapse_deadline = time.monotonic() + 30
    while time.monotonic() < collapse_deadline and any(d["status"] == "pending" for d in collapse_records()):
        time.sleep(0.5)
    collapsed = collapse_records()
    collapse_problems = [d for d in collapsed if d["status"] != "delivered" or not d["messageId"]
                         or d["action"] not in ("post", "collapsed")]
    collapse_counts = Counter(d["action"] for d in collapsed)

    # -- a last kill -9 of the master and a start: no stray temp files, every file parses ---------
    chaos.kill_master()
    time.sleep(1)
    file_problems, file_counts = check_data_dir(svc.data_dir, chaos.restarts[-1])

    # -- webhooks: every acknowledged change is there ---------------------------------------------
    state_problems, unexplained = [], []
    changes_acked = changes_found = 0
    for (user, key) in users:
        histories = chaos.histories[user]
        for wid, history in histories.items():
            if wid is None:
                continue
            acked = sum(1 for op in history if op.kind in ("create", "patch", "delete") and op.outcome == "ack")
            changes_acked += acked
            possible = possible_final(history)
            status, _, body = svc.request("GET", f"/webhooks/{wid}", key=key)
            found = "gone" if status == 404 else webhook_state(body) if status == 200 else f"status {status}"
            if found in possible:
                changes_found += acked
            else:
                state_problems.append(f"webhook {wid} of {user}: found {found}, possible {possible}; "
                                      f"history: {history}")
            for i, op in enumerate(history):
                if op.outcome == "refused":
                    earlier_delete = any(o.kind == "delete" and o.outcome == "unknown" for o in history[:i])
                    if not (op.status == 404 and earlier_delete):
                        unexplained.append(f"{op!r} (history {history[:i]})")
        # Nothing there that no request made: each listed webhook's Discord id was asked for.
        status, _, listed = svc.request("GET", "/webhooks", key=key)
        assert status == 200, (status, listed)
        asked = {op.state[0] for h in histories.values() for op in h if op.state}
        for w in listed:
            if webhook_state(w)[0] not in asked:
                state_problems.append(f"webhook {w['id']} of {user} that no request made: {w}")
        for op in histories.get(None, []):
            if op.outcome == "refused":
                unexplained.append(repr(op))

    # -- servers --------------------------------------------------------------------------------
    listed = svc.cli("servers", "list", check=False)
    if listed.returncode != 0:
        state_problems.append(f"`servers list` exited {listed.returncode}: {listed.stderr.strip()[:300]}")
    listing = listed.stdout.splitlines() if listed.returncode == 0 else None
    on_disk = {}
    for line in listing or ():
        parts = line.split("  ", 3)
        if len(parts) == 4:
            on_disk[parts[0]] = parts[3]
    for sid, history in (chaos.server_histories.items() if listing is not None else ()):
        possible, floating = {"gone"}, set()
        for op in history:
            effect = "gone" if op.kind == "server-delete" else op.state
            if op.outcome == "ack":
                possible = {effect}
                changes_acked += 1
            elif op.outcome == "unknown":
                possible.add(effect)
                if op.status is None or op.status == 504:
                    floating.add(effect)
            elif not (op.kind == "server-delete" and op.status == 404):
                unexplained.append(repr(op))
        found = on_disk.get(sid, "gone")
        if found in possible | floating:
            changes_found += sum(1 for op in history if op.outcome == "ack")
        else:
            state_problems.append(f"server {sid}: found {found!r}, possible {possible | floating}; "
                                  f"history {history}")

    # -- test sends: each 200 reached the fake, and is recorded as delivered ----------------------
    tests_acked = tests_found = 0
    test_problems = []
    tests_by_id = Counter(rec.webhook_id for rec in fake.received()
                          if isinstance(rec.body, dict) and rec.body.get("embeds")
                          and rec.body["embeds"][0].get("title") == "🔔 Test")
    for (user, key) in users:
        for wid, history in chaos.histories[user].items():
            for i, op in enumerate(history):
                if op.kind != "test" or op.outcome != "ack":
                    continue
                tests_acked += 1
                candidates = {s[0] for s in possible_final(history[:i]) if s != "gone"}
                if not any(tests_by_id[did] for did in candidates):
                    test_problems.append(f"test send {op!r} answered 200, nothing reached Discord at {candidates}")
                    continue
                status, _, d = svc.request("GET", f"/webhooks/{wid}/deliveries/{op.body['deliveryId']}", key=key)
                if status == 404 and "gone" in possible_final(history):
                    tests_found += 1  # deleted with its webhook since
                elif status == 200 and d.get("status") == "delivered":
                    tests_found += 1
                else:
                    test_problems.append(f"test send {op!r}: its delivery is {status} {d!r}")

    stray_removed = sum(int(n) for n in re.findall(r"count=(\d+) .*removed stray temp files",
                                                    svc.serve_log.read_text(errors="replace")))
    statuses = Counter(f"{op.kind} {op.status if op.status is not None else 'no answer'}" for op in ops)
    summary = {
        "seed": SEED, "rounds": ROUNDS, "seconds": round(chaos_seconds, 1),
        "kills": dict(chaos.kills), "requests": len(ops),
        "changes_acked": changes_acked, "changes_found": changes_found,
        "deliveries_acked": len(expected), "deliveries_found": len(expected) - len(missing_deliveries),
        "tests_acked": tests_acked, "tests_found": tests_found,
        "card_floor": floor, "card_found": card_found, "collapse_records": dict(collapse_counts),
        "unanswered_changes_that_happened": len(chaos.happened_unanswered),
        "of_them_with_no_kill_in_flight": sum(not chaos.near_a_kill(op) for op in chaos.happened_unanswered),
        "files": dict(file_counts), "stray_temp_files_removed_at_start": stray_removed,
        "answers": dict(sorted(statuses.items())),
    }
    print(f"\nchaos: {json.dumps(summary)}")
    for name, value in summary.items():
        record_property(name, value)

    assert not chaos.problems, "wrong answers:\n" + "\n".join(chaos.problems[:10])
    assert not missing_deliveries, \
        f"{len(missing_deliveries)} of {len(expected)} acknowledged deliveries never reached Discord " \
        f"(event n, discord id): {sorted(missing_deliveries)[:20]}"
    assert not file_problems, "\n".join(file_problems[:20])
    assert not state_problems, "acknowledged changes not there:\n" + "\n".join(state_problems[:10])
    assert not unexplained, "refused requests that should have been served:\n" + "\n".join(unexplained[:10])
    assert not test_problems, "\n".join(test_problems[:10])
    assert len(collapsed) >= len(events_acked), \
        f"{len(events_acked)} acknowledged events, {len(collapsed)} records of the collapsing webhook"
    assert not collapse_problems, f"records of the collapsing webhook not delivered or naming no message: " \
        f"{collapse_problems[:5]}"
    assert card_found >= floor, f"the status card shows S-{card_found}, older than S-{floor}, the status of the " \
        f"last acknowledged event ({last_event})"
    assert sum(chaos.kills.values()) >= ROUNDS // 2, chaos.kills
    assert len(events_acked) > 5 and changes_acked > 5, "the load barely ran"


def test_children_are_replaced_after_the_binary_is_replaced_on_disk(make_service, tmp_path,
                                                                    monkeypatch):
    """An upgrade renames a new binary over the running one (dpkg, install, cp + mv): the running
    master must still replace a worker or helper that dies, not fail to spawn
    "<path> (deleted)" for ever while the workers run out."""
    import conftest
    binary = tmp_path / "stellar-webhooks"
    binary.write_bytes(BIN.read_bytes())
    binary.chmod(0o755)
    monkeypatch.setattr(conftest, "BIN", binary)
    svc = make_service(workers=2)
    _, key = svc.new_user()
    workers = wait_until(lambda: len(svc.worker_pids()) == 2 and svc.worker_pids(), 20, what="workers")
    helpers = wait_until(svc.helper_pids, 20, what="the helper")

    upgrade = tmp_path / "stellar-webhooks.new"
    upgrade.write_bytes(BIN.read_bytes())
    upgrade.chmod(0o755)
    os.replace(upgrade, binary)  # the running master's file is now a deleted inode
    for pid in [*workers, *helpers]:
        os.kill(pid, signal.SIGKILL)
    try:
        wait_until(lambda: len(svc.worker_pids()) == 2 and svc.helper_pids(), 15,
                   what="new workers and a new helper")
    except AssertionError:
        spawn_errors = [line for line in svc.serve_log.read_text().splitlines() if "cannot start" in line]
        raise AssertionError(f"after the binary was replaced on disk, the master starts no children: "
                             f"{spawn_errors[-2:]}") from None
    assert svc.request("GET", "/webhooks", key=key)[0] == 200
