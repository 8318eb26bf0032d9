"""Discord's rate limits and ours, end to end against the fake Discord (docs/architecture.md: "A
delivery", "Discord"): 429s, empty buckets, global pauses, Cloudflare's ban, one request in
flight per webhook, `delivery_concurrency`, fan-out and `global_rate_limit`. Timings are read
from the fake's arrival times (`Received.at`), so they do not depend on how fast the test polls."""

import time
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime, timezone

import pytest

from conftest import Service, wait_until
from fake_discord import FakeDiscord
from delivery_setup import new_discord_id, Setup, parse_iso, max_in_window


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
        s = Setup(factory, fake, max_webhooks_per_user=200)
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
