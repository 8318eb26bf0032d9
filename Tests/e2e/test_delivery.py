"""Delivery to Discord, end to end against the fake Discord (design.md §4, §8, §10).

Each test starts its own service (cheap) pointed at its own fake Discord, with short retry
schedules, and uses fresh Discord webhook ids. Timings are read from the fake's arrival times
(`Received.at`, time.monotonic()), so they do not depend on how fast the test polls.
"""

import itertools
import json
import random
import re
import time
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime, timezone

import pytest

from conftest import ISO_RE, Service, fake_discord_config, wait_until
from fake_discord import FakeDiscord

GREEN, RED, YELLOW, BLUE = 65280, 16711680, 16776960, 39423

# Distinct 18-digit Discord webhook ids for the whole module (random base: runs differ too).
_discord_ids = itertools.count(random.randrange(10 ** 17, 9 * 10 ** 17, 10 ** 6))


def new_discord_id():
    return str(next(_discord_ids))


class Setup:
    """A started service sending to `discord`, a service key, an owner and one of its servers."""

    def __init__(self, make_service, discord, server_name="My MC", server_status="RUNNING",
                 **config):
        config.setdefault("retry_schedule", "1,1")
        self.discord = discord
        self.svc = make_service(config=fake_discord_config(discord, **config))
        self.skey = self.svc.service_key("panel-delivery")
        self.owner, self.key = self.svc.new_user()
        self.server = self.svc.new_server(self.owner, name=server_name, status=server_status)

    def hook(self, events=("server.started",), discord_id=None, token="tok_EN-1", **fields):
        """A webhook of the owner to a (fresh, unless given) Discord id: (webhook, discord_id)."""
        discord_id = discord_id or new_discord_id()
        w = self.svc.create_webhook(self.key, events=events,
                                    url=self.discord.url(discord_id, token), **fields)
        return w, discord_id

    def emit(self, event="server.started", data=None):
        status, _, body = self.svc.post_event(self.skey, event, self.server, data=data)
        assert status == 202, (status, body)
        return body

    def deliveries(self, webhook):
        return self.svc.deliveries(self.key, webhook["id"])

    def finished(self, webhook, count=1, status=None, timeout=15):
        return self.svc.wait_for_deliveries(self.key, webhook["id"], count, status=status,
                                            timeout=timeout)

    def webhook(self, webhook):
        return self.svc.webhook(self.key, webhook["id"])


def field(name, value):
    return {"name": name, "value": value, "inline": True}


def by_n(deliveries):
    return {d["payload"]["data"]["n"]: d for d in deliveries}


def parse_iso(text):
    assert ISO_RE.match(text), text
    return datetime.strptime(text, "%Y-%m-%dT%H:%M:%S.%fZ").replace(tzinfo=timezone.utc)


def max_in_window(times, width):
    """The most arrivals in any half-open window [t, t + width)."""
    times = sorted(times)
    best = 0
    for i, start in enumerate(times):
        best = max(best, sum(1 for t in times[i:] if t < start + width))
    return best


def assert_fake_accepted(rec):
    assert rec.status == 200, f"the fake refused the body with {rec.status}: {rec.body!r}"


# -- the Discord body (§4) ------------------------------------------------------------------------

def test_body_is_exactly_the_documented_embed(make_service, discord):
    s = Setup(make_service, discord, server_name="My MC @everyone")
    w, did = s.hook(events=["backup.created"], token="tok_EN-1")
    data = {"backupId": "b1", "sizeBytes": 1234, "compressed": True, "nested": {"x": 1},
            "list": [1, 2], "none": None}
    s.emit("backup.created", data)
    [rec] = discord.wait_for(1, did)
    [delivery] = s.finished(w, status="delivered")
    assert delivery["payload"]["data"] == data
    timestamp = delivery["payload"]["timestamp"]
    assert ISO_RE.match(timestamp), timestamp

    assert rec.method == "POST"
    assert rec.path == f"/api/v10/webhooks/{did}/tok_EN-1"
    assert rec.query == {"wait": "true"}
    assert rec.headers["content-type"].split(";")[0].strip().lower() == "application/json"
    assert rec.headers["user-agent"].startswith("DiscordBot ("), rec.headers["user-agent"]
    assert rec.body == {
        "embeds": [{
            "title": "🔔 Backup Created",
            "color": GREEN,
            "fields": [field("Server", "My MC @everyone"), field("Status", "RUNNING"),
                       field("Backup Id", "b1"), field("Compressed", "true"),
                       field("Size Bytes", "1234")],
            "timestamp": timestamp,
            "footer": {"text": "StellarStack"},
        }],
        "allowed_mentions": {"parse": []},
    }
    assert_fake_accepted(rec)


def test_thread_id_is_kept_in_the_query(make_service, discord):
    s = Setup(make_service, discord)
    did, thread = new_discord_id(), "112233445566778899"
    s.svc.create_webhook(s.key, url=discord.url(did, "tok", thread_id=thread))
    s.emit()
    [rec] = discord.wait_for(1, did)
    assert rec.path == f"/api/v10/webhooks/{did}/tok"
    assert rec.query == {"wait": "true", "thread_id": thread}
    assert_fake_accepted(rec)


COLOURS = [
    ("server.started", "🔔 Server Started", GREEN),
    ("server.crashed", "🔔 Server Crashed", RED),
    ("resource.warning", "🔔 Resource Warning", YELLOW),
    ("server.auto_shutdown", "🔔 Server Auto Shutdown", YELLOW),
    ("server.restarted", "🔔 Server Restarted", BLUE),
    ("transfer.completed", "🔔 Transfer Completed", GREEN),
    ("resource.critical", "🔔 Resource Critical", RED),
    ("file.modified", "🔔 File Modified", BLUE),
]


def test_title_and_colour_by_meaning(make_service, discord):
    s = Setup(make_service, discord)
    ids = {}
    for event, _, _ in COLOURS:
        _, ids[event] = s.hook(events=[event])
    for i, (event, _, _) in enumerate(COLOURS):
        if i % 2:  # the CLI and the HTTP API queue the same thing
            out = s.svc.cli("emit", event, "--server", s.server, "--data", '{"k":"v"}')
            assert re.search(r"\b1\b", out.stdout), out.stdout
        else:
            s.emit(event, {"k": "v"})
    for event, title, colour in COLOURS:
        [rec] = discord.wait_for(1, ids[event])
        embed = rec.body["embeds"][0]
        assert (embed["title"], embed["color"]) == (title, colour), event
        assert embed["fields"][2:] == [field("K", "v")], event
        assert_fake_accepted(rec)


def test_discord_footer_is_configurable(make_service, discord):
    s = Setup(make_service, discord, discord_footer="Acme Hosting")
    _, did = s.hook()
    s.emit()
    [rec] = discord.wait_for(1, did)
    assert rec.body["embeds"][0]["footer"] == {"text": "Acme Hosting"}
    assert_fake_accepted(rec)


def test_values_are_clipped_to_discords_limits(make_service, discord):
    s = Setup(make_service, discord, server_name="S" * 2000)
    long_hook, long_id = s.hook(events=["server.updated"])
    many_hook, many_id = s.hook(events=["backup.created"])
    total_hook, total_id = s.hook(events=["file.modified"])

    s.emit("server.updated", {"long": "x" * 3000, "empty": ""})
    many = {f"key{i:02d}": i for i in range(40)}
    s.emit("backup.created", many)
    s.emit("file.modified", {f"v{i}": chr(ord("a") + i) * 1000 for i in range(8)})

    [rec] = discord.wait_for(1, long_id)
    assert_fake_accepted(rec)
    fields = {f["name"]: f["value"] for f in rec.body["embeds"][0]["fields"]}
    assert list(fields) == ["Server", "Status", "Empty", "Long"]
    assert fields["Empty"] == "—"
    for name, letter in (("Server", "S"), ("Long", "x")):
        value = fields[name]
        assert len(value) <= 1024 and value.endswith("…"), (name, len(value), value[-5:])
        assert value[:-1] == letter * (len(value) - 1), name
    assert len(fields["Server"]) + len(fields["Long"]) > 1000  # clipped, not dropped

    [rec] = discord.wait_for(1, many_id)
    assert_fake_accepted(rec)
    names = [f["name"] for f in rec.body["embeds"][0]["fields"]]
    expected = ["Server", "Status"] + [f"Key{i:02d}" for i in range(40)]
    assert len(names) == 25, names
    assert names == expected[:25]

    [rec] = discord.wait_for(1, total_id)
    assert_fake_accepted(rec)
    embed = rec.body["embeds"][0]
    size = (len(embed["title"]) + len(embed["footer"]["text"])
            + sum(len(f["name"]) + len(f["value"]) for f in embed["fields"]))
    assert size <= 6000, size
    assert size > 5000  # clipped to the limit, not emptied

    for w in (long_hook, many_hook, total_hook):
        [d] = s.finished(w, status="delivered")
        assert d["statusCode"] == 200


# -- the delivery record (§3, §8) -----------------------------------------------------------------

def test_delivered_record(make_service, discord):
    s = Setup(make_service, discord)
    w, did = s.hook()
    s.emit()
    [rec] = discord.wait_for(1, did)
    [d] = s.finished(w)
    assert d["status"] == "delivered"
    assert d["statusCode"] == 200
    assert d["attempts"] == 1
    assert d["error"] is None and d["nextAttemptAt"] is None
    assert ISO_RE.match(d["deliveredAt"]) and d["deliveredAt"] >= d["createdAt"]
    # The fake's answer text, as sent: a compact JSON message with the id it made.
    answer = json.loads(d["response"])
    assert answer["id"] == rec.message_id and answer["webhook_id"] == did
    assert answer["embeds"] == rec.body["embeds"]
    assert d["response"] == json.dumps(answer, ensure_ascii=False, separators=(",", ":"))
    assert len(d["response"]) <= 5000


def test_response_is_cut_to_5000_characters(make_service, discord):
    s = Setup(make_service, discord)
    w, did = s.hook()
    s.emit(data={f"v{i}": "ü" * 1000 for i in range(5)})  # the answer echoes them: > 5000
    [rec] = discord.wait_for(1, did)
    assert_fake_accepted(rec)
    [d] = s.finished(w, status="delivered")
    # The answer up to and including its embeds, exactly as fake_discord.py writes it.
    head = {"id": rec.message_id, "type": 0, "content": "",
            "channel_id": FakeDiscord._channel_id(did),
            "author": {"bot": True, "id": did, "username": "Captain Hook", "avatar": None,
                       "discriminator": "0000"},
            "attachments": [], "embeds": rec.body["embeds"]}
    text = json.dumps(head, ensure_ascii=False, separators=(",", ":"))
    assert len(text) > 5001
    assert len(d["response"]) == 5000
    assert d["response"] == text[:5000]


# -- rate limits (§8) -----------------------------------------------------------------------------

def test_429_waits_retry_after_then_sends_again(make_service, discord):
    s = Setup(make_service, discord)
    w, did = s.hook()
    discord.set_fault(did, ("429", 0.5))
    s.emit()
    first, second = discord.wait_for(2, did)
    assert (first.status, second.status) == (429, 200)
    # retry_after from the body (0.5), not the header's whole seconds (Retry-After: 1).
    assert 0.49 <= second.at - first.at < 0.9, second.at - first.at
    [d] = s.finished(w)
    assert (d["status"], d["attempts"], d["statusCode"]) == ("delivered", 2, 200)
    assert d["error"] is None


def test_429_uses_up_no_retry(make_service, discord):
    # One retry in the schedule. 429, 429, 500, then 200: only the 500 spends the retry, so the
    # fourth request is still sent and delivers. Had a 429 spent it, the 500 would be final.
    s = Setup(make_service, discord, retry_schedule="1")
    w, did = s.hook()
    discord.set_fault(did, ("429", 0.3), ("429", 0.3), ("status", 500))
    s.emit()
    got = discord.wait_for(4, did, timeout=10)
    assert [r.status for r in got] == [429, 429, 500, 200]
    [d] = s.finished(w)
    assert (d["status"], d["attempts"], d["statusCode"]) == ("delivered", 4, 200)
    assert len(discord.received(did)) == 4


def test_429_with_only_a_retry_after_header(make_service, discord):
    s = Setup(make_service, discord)
    w, did = s.hook()
    discord.set_fault(did, ("429-header-only", 2))
    s.emit()
    first, second = discord.wait_for(2, did, timeout=10)
    assert first.status == 429 and "retry_after" not in first.body_bytes.decode()
    assert second.status == 200
    assert second.at - first.at >= 1.95, second.at - first.at
    [d] = s.finished(w)
    assert (d["status"], d["attempts"]) == ("delivered", 2)


def test_ratelimit_remaining_zero_is_honoured_and_order_kept(make_service, discord):
    s = Setup(make_service, discord)
    w, did = s.hook()
    for n in range(12):
        s.emit(data={"n": n})
    got = discord.wait_for(12, did, timeout=20)
    assert discord.over_limit == 0
    assert [r.status for r in got] == [200] * 12, [r.status for r in got]
    shown = [[f["value"] for f in r.body["embeds"][0]["fields"] if f["name"] == "N"]
             for r in got]
    assert shown == [[str(n)] for n in range(12)]
    # 5 per 2 s: the 6th and 11th requests had to wait for a new window.
    assert got[5].at - got[0].at >= 1.9 and got[10].at - got[5].at >= 1.9
    deliveries = s.finished(w, count=12)
    assert all(d["status"] == "delivered" and d["attempts"] == 1 for d in deliveries)
    assert len(discord.received(did)) == 12


def test_global_429_pauses_every_webhook(make_service, discord):
    s = Setup(make_service, discord)
    a, a_id = s.hook(events=["server.started"])
    b, b_id = s.hook(events=["server.stopped"])
    discord.set_fault(a_id, ("429-global", 1.0))
    s.emit("server.started")
    [limited] = discord.wait_for(1, a_id)
    assert limited.status == 429
    # Once the helper has recorded the 429 (so it knows of the pause), an event for B.
    wait_until(lambda: s.deliveries(a)[0]["statusCode"] == 429, 5, what="A's 429 recorded")
    s.emit("server.stopped")
    [rec_b] = discord.wait_for(1, b_id, timeout=10)
    assert rec_b.status == 200
    assert rec_b.at - limited.at >= 0.9, rec_b.at - limited.at
    [da] = s.finished(a)
    [db] = s.finished(b)
    assert (da["status"], da["attempts"]) == ("delivered", 2)
    assert (db["status"], db["attempts"]) == ("delivered", 1)


def test_cloudflare_ban_pauses_all_traffic_and_is_logged(make_service, discord):
    s = Setup(make_service, discord)
    a, a_id = s.hook(events=["server.started"])
    b, b_id = s.hook(events=["server.stopped"])
    discord.set_fault(a_id, "cloudflare")
    s.emit("server.started")
    [banned] = discord.wait_for(1, a_id)
    assert banned.status == 429
    wait_until(lambda: s.deliveries(a)[0]["statusCode"] == 429, 5, what="the ban recorded")
    s.emit("server.stopped")
    with pytest.raises(AssertionError):
        discord.wait_for(1, b_id, timeout=3)
    [db] = s.deliveries(b)
    assert db["status"] == "pending" and db["attempts"] == 0
    [da] = s.deliveries(a)
    assert da["status"] == "pending" and da["attempts"] == 1
    wait = (parse_iso(da["nextAttemptAt"]) - datetime.now(timezone.utc)).total_seconds()
    assert wait > 50 * 60, da["nextAttemptAt"]
    assert len(discord.received()) == 1
    log = s.svc.serve_log.read_text(errors="replace")
    assert any("Cloudflare" in line for line in log.splitlines()), log[-2000:]


# -- 404 / 401: the webhook is gone (§8) ----------------------------------------------------------

@pytest.mark.parametrize("fault, code", [("404", 404), ("401", 401)])
def test_gone_webhook_is_disabled_with_its_pending_deliveries(make_service, discord, fault, code):
    s = Setup(make_service, discord)
    w, did = s.hook()
    # The first request is held 0.5 s (then succeeds), so the next two wait behind it in the
    # helper; the second gets the fault.
    discord.set_fault(did, ("slow", 0.5), fault)
    for n in range(3):
        s.emit(data={"n": n})
    ds = by_n(s.finished(w, count=3, timeout=10))
    assert ds[0]["status"] == "delivered"
    gone = ds[1]
    assert (gone["status"], gone["statusCode"], gone["attempts"]) == ("failed", code, 1)
    assert gone["error"] and gone["nextAttemptAt"] is None
    other = ds[2]
    assert other["status"] == "failed" and other["attempts"] == 0, other
    assert other["error"].startswith("Webhook disabled"), other["error"]
    got = discord.received(did)
    assert [r.status for r in got] == [200, code]

    hook = s.webhook(w)
    assert hook["enabled"] is False
    assert isinstance(hook.get("disabledReason"), str) and hook["disabledReason"].strip()

    # Events skip it now: nothing queued.
    assert s.emit(data={"n": 3})["deliveries"] == 0
    assert s.svc.delivery_total(s.key, w["id"]) == 3
    assert len(discord.received(did)) == 2

    status, _, body = s.svc.request("PATCH", f"/webhooks/{w['id']}", key=s.key,
                                    body={"enabled": True})
    assert status == 200, body
    assert body["enabled"] is True and body.get("disabledReason") is None
    assert s.webhook(w).get("disabledReason") is None
    assert s.emit(data={"n": 4})["deliveries"] == 1
    rec = discord.wait_for(3, did)[2]
    assert rec.status == 200
    d = s.finished(w, count=4)[0]
    assert d["payload"]["data"] == {"n": 4}
    assert (d["status"], d["attempts"]) == ("delivered", 1)


# -- other 4xx, redirects (§8) --------------------------------------------------------------------

def test_other_4xx_and_redirects_fail_without_retry(make_service, discord):
    s = Setup(make_service, discord)
    forbidden, forbidden_id = s.hook(events=["server.started"])
    moved, moved_id = s.hook(events=["server.stopped"])
    elsewhere = new_discord_id()
    discord.set_always(forbidden_id, "403")
    discord.set_always(moved_id, ("redirect",
                                  f"http://127.0.0.1:{discord.port}/api/v10/webhooks/"
                                  f"{elsewhere}/tok?wait=true"))
    s.emit("server.started")
    s.emit("server.stopped")
    [d403] = s.finished(forbidden)
    [d302] = s.finished(moved)
    assert (d403["status"], d403["statusCode"], d403["attempts"]) == ("failed", 403, 1)
    assert (d302["status"], d302["statusCode"], d302["attempts"]) == ("failed", 302, 1)
    assert d403["error"] and d302["error"]
    assert d403["nextAttemptAt"] is None and d302["nextAttemptAt"] is None
    time.sleep(1.5)  # longer than the first retry (1 s + 20 %) would wait
    assert len(discord.received(forbidden_id)) == 1
    assert len(discord.received(moved_id)) == 1
    assert discord.received(elsewhere) == []  # the redirect was not followed
    for w in (forbidden, moved):
        hook = s.webhook(w)
        assert hook["enabled"] is True and hook.get("disabledReason") is None
        assert [d["status"] for d in s.deliveries(w)] == ["failed"]


# -- 5xx, timeouts, dropped connections (§8) ------------------------------------------------------

def test_5xx_is_retried_per_schedule_then_fails(make_service, discord):
    s = Setup(make_service, discord, retry_schedule="1,1")
    w, did = s.hook()
    discord.set_fault(did, ("status", 500), ("status", 500), ("status", 500))
    s.emit()
    got = discord.wait_for(3, did, timeout=10)
    [d] = s.finished(w, timeout=10)
    assert (d["status"], d["statusCode"], d["attempts"]) == ("failed", 500, 3)
    assert "500" in d["error"], d["error"]
    assert d["nextAttemptAt"] is None and d["deliveredAt"] is None
    assert len(discord.received(did)) == 3
    gaps = [b.at - a.at for a, b in zip(got, got[1:])]
    assert all(0.79 <= g <= 2.0 for g in gaps), gaps


def test_5xx_once_then_delivered(make_service, discord):
    s = Setup(make_service, discord)
    w503, id503 = s.hook(events=["server.started"])
    w502, id502 = s.hook(events=["server.stopped"])  # 502 comes as Cloudflare's HTML page
    discord.set_fault(id503, ("status", 503))
    discord.set_fault(id502, ("status", 502))
    s.emit("server.started")
    s.emit("server.stopped")
    for w, did, code in ((w503, id503, 503), (w502, id502, 502)):
        got = discord.wait_for(2, did, timeout=10)
        assert [r.status for r in got] == [code, 200]
        [d] = s.finished(w)
        assert (d["status"], d["statusCode"], d["attempts"]) == ("delivered", 200, 2)
        assert d["error"] is None
        assert len(discord.received(did)) == 2


def test_timeouts_are_retried(make_service, discord):
    s = Setup(make_service, discord, delivery_timeout=1, retry_schedule="1")
    never, never_id = s.hook(events=["server.started"])
    once, once_id = s.hook(events=["server.stopped"])
    discord.set_always(never_id, ("slow", 3))
    discord.set_fault(once_id, ("slow", 3))
    started = time.monotonic()
    s.emit("server.started")
    s.emit("server.stopped")

    def timed_out_once():
        [d] = s.deliveries(once)
        return d if d["attempts"] == 1 and d["status"] == "pending" else None
    d = wait_until(timed_out_once, 5, what="the first attempt to time out")
    assert d["error"].startswith("Timed out"), d["error"]
    assert d["statusCode"] is None and d["nextAttemptAt"] is not None

    [d] = s.finished(once, timeout=10)
    assert (d["status"], d["statusCode"], d["attempts"]) == ("delivered", 200, 2)
    [d] = s.finished(never, timeout=10)
    assert (d["status"], d["statusCode"], d["attempts"]) == ("failed", None, 2)
    assert d["error"].startswith("Timed out"), d["error"]
    # Each attempt gave up after delivery_timeout (1 s), not after the fake's 3 s.
    assert time.monotonic() - started < 6


def test_dropped_connection_is_retried_then_delivered(make_service, discord):
    s = Setup(make_service, discord)
    w, did = s.hook()
    discord.set_fault(did, "drop")
    s.emit()

    def dropped_once():
        [d] = s.deliveries(w)
        return d if d["attempts"] == 1 and d["status"] == "pending" else None
    d = wait_until(dropped_once, 5, what="the first attempt to fail")
    assert d["error"].startswith("Connection failed"), d["error"]
    assert d["statusCode"] is None
    [d] = s.finished(w, timeout=10)
    assert (d["status"], d["statusCode"], d["attempts"]) == ("delivered", 200, 2)
    assert [r.status for r in discord.received(did)] == [None, 200]


def test_dropped_connections_fail_after_the_schedule(make_service, discord):
    s = Setup(make_service, discord, retry_schedule="1,1")
    w, did = s.hook()
    discord.set_always(did, "drop")
    s.emit()
    [d] = s.finished(w, timeout=10)
    assert (d["status"], d["statusCode"], d["attempts"]) == ("failed", None, 3)
    assert d["error"].startswith("Connection failed"), d["error"]
    assert all(r.status is None for r in discord.received(did))


# -- one request in flight per Discord webhook, concurrency (§8) ----------------------------------

def test_one_request_in_flight_per_discord_webhook(make_service, discord):
    s = Setup(make_service, discord)
    # Two of our webhooks on the same Discord webhook A, one on B; one event reaches all three.
    a1, a_id = s.hook()
    a2, _ = s.hook(discord_id=a_id)
    b, b_id = s.hook()
    discord.set_fault(a_id, ("slow", 1.0), ("slow", 1.0))
    emitted = time.monotonic()
    assert s.emit()["deliveries"] == 3
    [rec_b] = discord.wait_for(1, b_id)
    assert rec_b.at - emitted < 0.8, rec_b.at - emitted  # B is not held up by A
    first, second = discord.wait_for(2, a_id, timeout=10)
    assert rec_b.at < first.at
    # A's second request started only after its first was answered (each takes 1 s).
    assert second.at - first.at >= 0.95, second.at - first.at
    for w in (a1, a2, b):
        [d] = s.finished(w)
        assert (d["status"], d["attempts"]) == ("delivered", 1)


def test_delivery_concurrency_limits_requests_in_flight(make_service, discord):
    s = Setup(make_service, discord, delivery_concurrency=1)
    a, a_id = s.hook(events=["server.started"])
    b, b_id = s.hook(events=["server.stopped"])
    discord.set_fault(a_id, ("slow", 1.0))
    s.emit("server.started")
    # A connection to the fake means A's request is in flight (and held there for 1 s).
    wait_until(lambda: discord.connections >= 1, 5, what="A's request to start")
    s.emit("server.stopped")
    [rec_a] = discord.wait_for(1, a_id, timeout=5)
    [rec_b] = discord.wait_for(1, b_id, timeout=5)
    assert rec_b.at >= rec_a.at, "B was sent while A's request was still in flight"
    for w in (a, b):
        [d] = s.finished(w)
        assert d["status"] == "delivered"


# -- fan-out and the global rate limit (§8) -------------------------------------------------------

class _Factory:
    """make_service's job for a module-scoped fixture: services made here are cleaned up."""

    def __init__(self):
        self.made = []

    def __call__(self, config=None, **env):
        service = Service(config=config, env=env)
        self.made.append(service)
        return service.start()

    def cleanup(self):
        for service in self.made:
            service.cleanup()


@pytest.fixture(scope="module")
def fan_out():
    """One owner, 200 webhooks to server.started over 20 Discord ids (10 each), one event;
    returns once the fake has received 200 requests. Shared by the two fan-out tests."""
    fake = FakeDiscord().start()
    factory = _Factory()
    try:
        s = Setup(factory, fake)
        ids = [new_discord_id() for _ in range(20)]

        def create(did):
            return s.svc.create_webhook(s.key, url=fake.url(did, "fan"))
        with ThreadPoolExecutor(max_workers=8) as pool:
            hooks = list(pool.map(create, [ids[i % 20] for i in range(200)]))
        body = s.emit()
        got = fake.wait_for(200, timeout=60) if body["deliveries"] == 200 else []
        yield {"s": s, "fake": fake, "ids": ids, "hooks": hooks, "body": body, "got": got}
    finally:
        factory.cleanup()
        fake.stop()


def test_fan_out_to_200_webhooks(fan_out):
    s, fake, ids, hooks = fan_out["s"], fan_out["fake"], fan_out["ids"], fan_out["hooks"]
    assert len({w["id"] for w in hooks}) == 200
    assert fan_out["body"]["deliveries"] == 200
    got = fan_out["got"]
    assert all(r.status == 200 for r in got), [r.status for r in got if r.status != 200]
    assert fake.over_limit == 0
    counts = {did: len(fake.received(did)) for did in ids}
    assert set(counts.values()) == {10}, counts

    def one_delivered(w):
        ds = s.svc.wait_for_deliveries(s.key, w["id"], 1, status="delivered", timeout=30)
        return [(d["status"], d["attempts"]) for d in ds]
    with ThreadPoolExecutor(max_workers=8) as pool:
        results = list(pool.map(one_delivered, hooks))
    assert all(r == [("delivered", 1)] for r in results), results
    assert len(fake.received()) == 200


def test_fan_out_stays_under_the_global_rate_limit(fan_out):
    """The default global_rate_limit, 50 per second, as Discord would see it: no window of
    0.95 s (the other 50 ms are slack for the trip from the helper) holds more than 50."""
    times = sorted(r.at for r in fan_out["got"])
    assert len(times) == 200
    assert times[-1] - times[0] >= 2.9  # 200 at 50/s: four seconds' worth of starts
    worst = max_in_window(times, 0.95)
    assert worst <= 50, (f"{worst} requests reached Discord within 0.95 s; arrivals (s after "
                         f"the first): {[round(t - times[0], 3) for t in times]}")


def test_global_rate_limit(make_service, discord):
    s = Setup(make_service, discord, global_rate_limit=5)
    ids = [new_discord_id() for _ in range(15)]
    for did in ids:
        s.hook(discord_id=did)
    assert s.emit()["deliveries"] == 15
    got = discord.wait_for(15, timeout=15)
    times = [r.at for r in got]
    assert max_in_window(times, 0.95) <= 5, sorted(t - min(times) for t in times)
    assert max(times) - min(times) >= 1.8  # 15 at 5/s: three seconds' worth of starts
    assert sorted(r.webhook_id for r in got) == sorted(ids)
    assert all(r.status == 200 for r in got)
