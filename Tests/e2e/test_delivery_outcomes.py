"""What each answer from Discord does to a delivery and its webhook, end to end against the fake
Discord (docs/architecture.md: "A delivery"): 404/401 disable the webhook, other 4xx fail, 5xx,
timeouts and dropped connections are retried on `retry_schedule`, then fail."""

import time

import pytest

from conftest import wait_until
from delivery_setup import new_discord_id, Setup, by_n


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
