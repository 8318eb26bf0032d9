"""Sends the user asks for (test message, manual retry), and deliveries that must survive a killed
helper, a restarted service and the pruning of old records (design.md §3, §4, §7, §8)."""

import itertools
import json
import os
import secrets
import signal
import time
import uuid
from datetime import datetime, timedelta, timezone

import pytest

from conftest import (ISO_RE, JSON_CONTENT_TYPE, UUID_RE, assert_error, fake_discord_config,
                      unique_id, wait_until)

_ids = itertools.count(1)


def discord_id():
    """A fresh 18-digit Discord webhook id."""
    return str(323456789012345678 + next(_ids) * 1000 + secrets.randbelow(1000))


def iso(dt):
    return dt.strftime("%Y-%m-%dT%H:%M:%S.000Z")


def ago(**delta):
    return iso(datetime.now(timezone.utc) - timedelta(**delta))


def get_delivery(svc, key, webhook_id, delivery_id):
    status, _, body = svc.request("GET", f"/webhooks/{webhook_id}/deliveries/{delivery_id}",
                                  key=key)
    assert status == 200, (status, body)
    return body


def wait_for_status(svc, key, webhook_id, delivery_id, status, timeout=15):
    def reached():
        d = get_delivery(svc, key, webhook_id, delivery_id)
        return d if d["status"] == status else None
    return wait_until(reached, timeout, interval=0.1, what=f"delivery {delivery_id} {status}")


def field(body, name):
    """The value of the embed field `name` in a Discord body."""
    for f in body["embeds"][0].get("fields", []):
        if f["name"] == name:
            return f["value"]
    return None


def send_test(svc, key, webhook_id):
    return svc.request("POST", f"/webhooks/{webhook_id}/test", key=key)


def send_retry(svc, key, webhook_id, delivery_id):
    return svc.request("POST", f"/webhooks/{webhook_id}/deliveries/{delivery_id}/retry", key=key)


def assert_send_ok(status, headers, body):
    assert status == 200, (status, body)
    assert headers["Content-Type"] == JSON_CONTENT_TYPE
    assert set(body) == {"success", "deliveryId", "statusCode"}, body
    assert body["success"] is True and body["statusCode"] == 200, body
    assert UUID_RE.match(body["deliveryId"]), body
    return body["deliveryId"]


def assert_send_failed(status, headers, body, status_code):
    assert status == 500, (status, body)
    assert headers["Content-Type"] == JSON_CONTENT_TYPE
    assert set(body) == {"success", "deliveryId", "statusCode", "error"}, body
    assert body["success"] is False and body["statusCode"] == status_code, body
    assert UUID_RE.match(body["deliveryId"]), body
    assert isinstance(body["error"], str) and body["error"], body
    return body["deliveryId"]


@pytest.fixture
def fast_retries(make_service, discord):
    """A service sending to the fake, whose automatic retries would come after about 1 s."""
    return make_service(config=fake_discord_config(discord, retry_schedule="1"))


# -- POST /webhooks/{id}/test ------------------------------------------------------------------

def test_test_message_is_sent_and_recorded(fast_retries, discord):
    svc = fast_retries
    _, key = svc.new_user()
    wid = discord_id()
    w = svc.create_webhook(key, url=discord.url(wid, "tok_test"))
    before = datetime.now(timezone.utc) - timedelta(seconds=5)

    delivery_id = assert_send_ok(*send_test(svc, key, w["id"]))
    [got] = discord.received(wid)  # the answer comes after the send, not before
    assert got.status == 200 and got.token == "tok_test"
    assert got.body["allowed_mentions"] == {"parse": []}
    [embed] = got.body["embeds"]
    assert embed["title"] == "🔔 Test"
    assert embed["description"] == "Webhook connected"
    assert embed["color"] == 39423
    assert embed["footer"] == {"text": "StellarStack"}
    sent_at = datetime.fromisoformat(embed["timestamp"].replace("Z", "+00:00"))
    assert before <= sent_at <= datetime.now(timezone.utc) + timedelta(seconds=5), embed

    d = get_delivery(svc, key, w["id"], delivery_id)
    assert d["event"] == "webhook.test" and d["webhookId"] == w["id"], d
    assert (d["status"], d["statusCode"], d["attempts"]) == ("delivered", 200, 1), d
    assert d["retryOf"] is None, d
    assert ISO_RE.match(d["deliveredAt"]) and d["nextAttemptAt"] is None, d
    listed = svc.deliveries(key, w["id"])
    assert [x["id"] for x in listed] == [delivery_id]
    hook = svc.webhook(key, w["id"])
    assert hook["_count"] == {"deliveries": 1}
    assert [s["id"] for s in hook["deliveries"]] == [delivery_id]
    assert hook["deliveries"][0]["event"] == "webhook.test"


def test_test_endpoint_errors(svc):
    _, key = svc.new_user()
    _, other_key = svc.new_user()
    w = svc.create_webhook(key)
    theirs = svc.create_webhook(other_key)

    for webhook_id in (str(uuid.uuid4()), theirs["id"], "not-a-uuid"):
        status, _, body = send_test(svc, key, webhook_id)
        assert (status, body) == (404, {"error": "Webhook not found"}), webhook_id

    status, headers, body = svc.request("GET", f"/webhooks/{w['id']}/test", key=key)
    assert_error(status, body, 405)
    assert "POST" in headers.get("Allow", ""), headers
    status, headers, body = svc.request("POST", f"/webhooks/{w['id']}/test")
    assert (status, body) == (401, {"error": "Unauthorized"})
    assert headers.get("WWW-Authenticate", "").startswith("Bearer")
    status, _, body = send_test(svc, svc.service_key(unique_id("panel")), w["id"])
    assert (status, body) == (403, {"error": "Forbidden"})
    # None of these queued anything.
    assert svc.delivery_total(key, w["id"]) == 0
    assert svc.delivery_total(other_key, theirs["id"]) == 0


def test_failed_test_is_answered_and_never_retried(fast_retries, discord):
    svc = fast_retries
    _, key = svc.new_user()
    wid = discord_id()
    discord.set_always(wid, ("status", 500))
    w = svc.create_webhook(key, url=discord.url(wid))

    delivery_id = assert_send_failed(*send_test(svc, key, w["id"]), 500)
    assert len(discord.received(wid)) == 1
    d = get_delivery(svc, key, w["id"], delivery_id)
    assert (d["status"], d["statusCode"], d["attempts"]) == ("failed", 500, 1), d
    assert d["nextAttemptAt"] is None and d["event"] == "webhook.test", d
    time.sleep(2.5)  # retry_schedule is 1 s (+20 %): an automatic retry would have come
    assert len(discord.received(wid)) == 1, "a manual send must not be retried automatically"
    assert get_delivery(svc, key, w["id"], delivery_id) == d


def test_test_to_a_gone_webhook_disables_it_and_a_later_test_still_sends(fast_retries, discord):
    svc = fast_retries
    _, key = svc.new_user()
    wid = discord_id()
    discord.set_fault(wid, "404")  # only the first request
    w = svc.create_webhook(key, url=discord.url(wid))

    assert_send_failed(*send_test(svc, key, w["id"]), 404)
    hook = svc.webhook(key, w["id"])
    assert hook["enabled"] is False, hook
    assert isinstance(hook.get("disabledReason"), str) and hook["disabledReason"], hook

    # The user asked: a test goes out even to a disabled webhook.
    delivery_id = assert_send_ok(*send_test(svc, key, w["id"]))
    got = discord.received(wid)
    assert [r.status for r in got] == [404, 200]
    assert got[1].body["embeds"][0]["title"] == "🔔 Test"
    assert get_delivery(svc, key, w["id"], delivery_id)["status"] == "delivered"


def test_test_to_a_webhook_the_user_disabled_still_sends(fast_retries, discord):
    svc = fast_retries
    _, key = svc.new_user()
    wid = discord_id()
    w = svc.create_webhook(key, url=discord.url(wid), enabled=False)
    assert_send_ok(*send_test(svc, key, w["id"]))
    assert [r.status for r in discord.received(wid)] == [200]


# -- POST /webhooks/{id}/deliveries/{deliveryId}/retry -------------------------------------------

@pytest.fixture
def failed_delivery(fast_retries, discord):
    """A delivery of a real event that Discord refused with 403 (failed, not retried)."""
    svc = fast_retries
    owner, key = svc.new_user()
    server_id = svc.new_server(owner, name="Retry MC", status="RUNNING")
    wid = discord_id()
    w = svc.create_webhook(key, url=discord.url(wid, "tok_retry"), events=["backup.created"])
    discord.set_fault(wid, "403")
    status, _, answer = svc.post_event(svc.service_key(unique_id("panel")), "backup.created",
                                       server_id, data={"backupId": "b-42", "sizeBytes": 7})
    assert status == 202 and answer["deliveries"] == 1, answer
    [d] = svc.wait_for_deliveries(key, w["id"], 1)
    d = get_delivery(svc, key, w["id"], d["id"])
    assert (d["status"], d["statusCode"], d["attempts"]) == ("failed", 403, 1), d
    return {"svc": svc, "key": key, "wid": wid, "webhook": w, "delivery": d,
            "server_id": server_id}


def test_manual_retry_sends_the_stored_payload_again(failed_delivery, discord):
    svc, key, wid = failed_delivery["svc"], failed_delivery["key"], failed_delivery["wid"]
    w, old = failed_delivery["webhook"], failed_delivery["delivery"]

    new_id = assert_send_ok(*send_retry(svc, key, w["id"], old["id"]))
    assert new_id != old["id"]
    first, second = discord.wait_for(2, wid)
    assert (first.status, second.status) == (403, 200)
    assert second.body == first.body, "a manual retry renders the stored payload again"
    assert second.body["embeds"][0]["title"] == "🔔 Backup Created"
    assert field(second.body, "Backup Id") == "b-42"

    new = get_delivery(svc, key, w["id"], new_id)
    assert new["retryOf"] == old["id"]
    assert (new["event"], new["payload"]) == (old["event"], old["payload"])
    assert (new["status"], new["statusCode"], new["attempts"]) == ("delivered", 200, 1), new
    assert get_delivery(svc, key, w["id"], old["id"]) == old, "the original stays as it was"
    assert [d["id"] for d in svc.deliveries(key, w["id"])] == [new_id, old["id"]]
    assert svc.webhook(key, w["id"])["_count"] == {"deliveries": 2}


def test_manual_retry_of_a_test_sends_the_test_again(fast_retries, discord):
    svc = fast_retries
    _, key = svc.new_user()
    wid = discord_id()
    w = svc.create_webhook(key, url=discord.url(wid))
    first_id = assert_send_ok(*send_test(svc, key, w["id"]))
    again_id = assert_send_ok(*send_retry(svc, key, w["id"], first_id))
    first, second = discord.wait_for(2, wid)
    assert second.body == first.body and second.body["embeds"][0]["title"] == "🔔 Test"
    again = get_delivery(svc, key, w["id"], again_id)
    assert (again["event"], again["retryOf"], again["status"]) == ("webhook.test", first_id,
                                                                   "delivered")


def test_manual_retry_errors(failed_delivery, discord):
    svc, key = failed_delivery["svc"], failed_delivery["key"]
    w, old = failed_delivery["webhook"], failed_delivery["delivery"]
    other = svc.create_webhook(key, url=discord.url(discord_id()))
    _, stranger_key = svc.new_user()
    requests_before = len(discord.received())

    status, _, body = send_retry(svc, key, w["id"], str(uuid.uuid4()))
    assert (status, body) == (404, {"error": "Delivery not found"})
    status, _, body = send_retry(svc, key, other["id"], old["id"])  # another webhook's delivery
    assert (status, body) == (404, {"error": "Delivery not found"})
    status, _, body = send_retry(svc, key, str(uuid.uuid4()), old["id"])
    assert (status, body) == (404, {"error": "Webhook not found"})
    status, _, body = send_retry(svc, stranger_key, w["id"], old["id"])  # someone else's
    assert (status, body) == (404, {"error": "Webhook not found"})
    status, headers, body = svc.request(
        "GET", f"/webhooks/{w['id']}/deliveries/{old['id']}/retry", key=key)
    assert_error(status, body, 405)
    assert "POST" in headers.get("Allow", ""), headers
    status, _, body = svc.request("POST", f"/webhooks/{w['id']}/deliveries/{old['id']}/retry")
    assert (status, body) == (401, {"error": "Unauthorized"})

    assert len(discord.received()) == requests_before, "nothing may be sent for a refused retry"
    assert svc.delivery_total(key, w["id"]) == 1
    assert svc.delivery_total(key, other["id"]) == 0


def test_failed_manual_retry_is_answered_and_never_retried(failed_delivery, discord):
    svc, key, wid = failed_delivery["svc"], failed_delivery["key"], failed_delivery["wid"]
    w, old = failed_delivery["webhook"], failed_delivery["delivery"]
    discord.set_always(wid, ("status", 500))

    new_id = assert_send_failed(*send_retry(svc, key, w["id"], old["id"]), 500)
    assert len(discord.received(wid)) == 2
    new = get_delivery(svc, key, w["id"], new_id)
    assert (new["status"], new["statusCode"], new["attempts"]) == ("failed", 500, 1), new
    assert new["retryOf"] == old["id"] and new["nextAttemptAt"] is None, new
    time.sleep(2.5)  # past the 1 s retry_schedule
    assert len(discord.received(wid)) == 2, "a manual retry must not be retried automatically"
    assert get_delivery(svc, key, w["id"], new_id) == new
    assert get_delivery(svc, key, w["id"], old["id"]) == old


# -- a killed helper loses nothing ----------------------------------------------------------------

def wait_for_new_helper(svc, old, timeout=15):
    def replaced():
        pids = svc.helper_pids()
        return pids if pids and not pids & set(old) else None
    return wait_until(replaced, timeout, what=f"a helper other than {sorted(old)}")


def test_helper_killed_mid_send_sends_again_after_restart(make_service, discord):
    svc = make_service(config=fake_discord_config(discord))
    owner, key = svc.new_user()
    server_id = svc.new_server(owner)
    wid = discord_id()
    w = svc.create_webhook(key, url=discord.url(wid))
    [helper] = wait_until(svc.helper_pids, 10, what="the delivery helper")
    discord.set_fault(wid, ("slow", 3))

    svc.cli("emit", "server.started", "--server", server_id)
    wait_until(lambda: discord.connections >= 1, 10, what="the send to start")
    time.sleep(0.3)  # the request is now in the fake's hands, its answer 3 s away
    assert discord.received(wid) == [], "the slow answer came too early"
    os.kill(helper, signal.SIGKILL)
    wait_for_new_helper(svc, {helper})

    [d] = svc.wait_for_deliveries(key, w["id"], 1, timeout=20)
    assert d["status"] == "delivered" and d["statusCode"] == 200, d
    got = discord.wait_for(1, wid)
    assert any(r.status == 200 for r in got)
    assert all(r.body == got[0].body for r in got), "every copy is the same message"
    assert svc.serve.poll() is None
    assert "delivery helper died" in svc.serve_log.read_text()


def test_sighup_replaces_the_helper_after_its_sends_and_applies_the_new_config(make_service, discord):
    """A reload starts a new helper, which takes over only when the old one has finished the send
    in hand (one helper per data_dir), and sends with the new configuration."""
    svc = make_service(config=fake_discord_config(discord))
    owner, key = svc.new_user()
    server_id = svc.new_server(owner)
    wid = discord_id()
    w = svc.create_webhook(key, url=discord.url(wid))
    [old] = wait_until(svc.helper_pids, 10, what="the delivery helper")
    discord.set_fault(wid, ("slow", 1.5))
    svc.cli("emit", "server.started", "--server", server_id)
    wait_until(lambda: discord.connections >= 1, 10, what="the send to start")

    svc.write_config(discord_footer="Reloaded footer")
    os.kill(svc.master_pid, signal.SIGHUP)
    new = wait_for_new_helper(svc, {old})
    [first] = svc.wait_for_deliveries(key, w["id"], 1, status="delivered")
    wait_until(lambda: old not in svc.helper_pids(), 10, what="the old helper to leave")
    assert svc.helper_pids() == new and len(new) == 1
    assert first["attempts"] == 1, "the send in hand finished once, not cut off and resent"

    svc.cli("emit", "server.started", "--server", server_id)
    got = discord.wait_for(2, wid)
    assert got[-1].body["embeds"][0]["footer"] == {"text": "Reloaded footer"}
    assert got[0].body["embeds"][0]["footer"] == {"text": "StellarStack"}
    assert [r.status for r in got] == [200, 200]


def test_helper_killed_with_a_full_queue_loses_nothing(make_service, discord):
    svc = make_service(config=fake_discord_config(discord, global_rate_limit=10))
    owner, key = svc.new_user()
    server_id = svc.new_server(owner)
    service_key = svc.service_key(unique_id("panel"))
    hooks = {}
    for _ in range(10):
        wid = discord_id()
        hooks[wid] = svc.create_webhook(key, url=discord.url(wid))
    [helper] = wait_until(svc.helper_pids, 10, what="the delivery helper")

    for n in range(5):
        status, _, answer = svc.post_event(service_key, "server.started", server_id,
                                           data={"n": n})
        assert (status, answer["deliveries"]) == (202, 10), answer
    discord.wait_for(3)  # sending has begun; at 10/s most of the 50 are still queued
    os.kill(helper, signal.SIGKILL)
    assert len(discord.received()) < 40, "the queue drained before the kill: not a useful test"
    wait_for_new_helper(svc, {helper})

    for wid, w in hooks.items():
        found = svc.wait_for_deliveries(key, w["id"], 5, timeout=40)
        assert len(found) == 5
        assert {d["status"] for d in found} == {"delivered"}, found
        assert sorted(d["payload"]["data"]["n"] for d in found) == [0, 1, 2, 3, 4]
        sent = {field(r.body, "N") for r in discord.received(wid) if r.status == 200}
        assert sent >= {"0", "1", "2", "3", "4"}, (wid, sent)


# -- retries survive a restart of the whole service -----------------------------------------------

def test_pending_deliveries_are_sent_after_a_restart(make_service, discord):
    svc = make_service(config=fake_discord_config(discord, retry_schedule="2,2,2,2,2"))
    owner, key = svc.new_user()
    server_id = svc.new_server(owner)
    wid = discord_id()
    w = svc.create_webhook(key, url=discord.url(wid))
    discord.set_always(wid, ("status", 500))
    for n in range(3):
        svc.cli("emit", "server.started", "--server", server_id, "--data", json.dumps({"n": n}))
    discord.wait_for(3, wid)  # each has failed once
    svc.stop()

    on_disk = [json.loads(p.read_text()) for p in
               (svc.data_dir / "users").glob(f"*/webhooks/{w['id']}/deliveries/*.json")]
    assert len(on_disk) == 3 and {d["status"] for d in on_disk} == {"pending"}, on_disk

    discord.set_always(wid, None)
    restarted = time.monotonic()
    svc.start()
    found = svc.wait_for_deliveries(key, w["id"], 3, timeout=20)
    assert {d["status"] for d in found} == {"delivered"}, found
    assert all(d["attempts"] >= 2 for d in found), found
    after = [r for r in discord.received(wid) if r.at >= restarted and r.status == 200]
    assert sorted(field(r.body, "N") for r in after) == ["0", "1", "2"]


# -- pruning ------------------------------------------------------------------------------------

def delivery_file(svc, user, webhook_id, delivery_id):
    folder = svc.data_dir / "users" / user / "webhooks" / webhook_id / "deliveries"
    return folder / f"{delivery_id}.json"


def edit_json(path, **changes):
    record = json.loads(path.read_text())
    record.update(changes)
    path.write_text(json.dumps(record, indent=2, ensure_ascii=False) + "\n")


def test_old_finished_deliveries_are_pruned_at_start(make_service, discord):
    svc = make_service(config=fake_discord_config(discord, retention_days=1))
    owner, key = svc.new_user()
    server_id = svc.new_server(owner)
    w = svc.create_webhook(key, url=discord.url(discord_id()))
    for n in range(5):
        svc.cli("emit", "server.started", "--server", server_id, "--data", json.dumps({"n": n}))
    found = svc.wait_for_deliveries(key, w["id"], 5, status="delivered")
    d0, d1, d2, d3, d4 = (d["id"] for d in reversed(found))  # oldest first
    svc.stop()

    old = ago(days=40)
    # The oldest is still pending (say, a long retry): it stays whatever its age.
    edit_json(delivery_file(svc, owner, w["id"], d0), createdAt=old, status="pending",
              deliveredAt=None, statusCode=500, nextAttemptAt=iso(
                  datetime.now(timezone.utc) + timedelta(days=1)))
    edit_json(delivery_file(svc, owner, w["id"], d1), createdAt=old)                     # delivered
    edit_json(delivery_file(svc, owner, w["id"], d2), createdAt=ago(days=2),
              status="failed", error="Discord answered 403")                               # failed
    edit_json(delivery_file(svc, owner, w["id"], d3), createdAt=ago(hours=12))          # recent
    svc.start()

    wait_until(lambda: svc.delivery_total(key, w["id"]) == 3, 15, what="pruning")
    assert [d["id"] for d in svc.deliveries(key, w["id"])] == [d4, d3, d0]
    for gone in (d1, d2):
        status, _, body = svc.request("GET", f"/webhooks/{w['id']}/deliveries/{gone}", key=key)
        assert (status, body) == (404, {"error": "Delivery not found"})
        assert not delivery_file(svc, owner, w["id"], gone).exists()
    assert get_delivery(svc, key, w["id"], d0)["status"] == "pending"
    assert get_delivery(svc, key, w["id"], d3)["status"] == "delivered"
    hook = svc.webhook(key, w["id"])
    assert hook["_count"] == {"deliveries": 3}
    assert [s["id"] for s in hook["deliveries"]] == [d4, d3, d0]
    [listed] = [x for x in svc.request("GET", "/webhooks", key=key)[2] if x["id"] == w["id"]]
    assert listed["_count"] == {"deliveries": 3}


def test_expired_idempotency_keys_are_removed_at_start(make_service, discord):
    svc = make_service(config=fake_discord_config(discord))
    owner, key = svc.new_user()
    server_id = svc.new_server(owner)
    w = svc.create_webhook(key, url=discord.url(discord_id()))
    service_key = svc.service_key(unique_id("panel"))
    expired_key = {"Idempotency-Key": uuid.uuid4().hex}
    fresh_key = {"Idempotency-Key": uuid.uuid4().hex}
    first = svc.post_event(service_key, "server.started", server_id, headers=expired_key)
    fresh = svc.post_event(service_key, "server.started", server_id, headers=fresh_key)
    assert first[0] == 202 and fresh[0] == 202 and first[2]["id"] != fresh[2]["id"]
    assert svc.delivery_total(key, w["id"]) == 2
    svc.stop()

    stored = {}
    for path in (svc.data_dir / "idempotency").glob("*.json"):
        record = json.loads(path.read_text())
        stored[record["body"]["id"]] = path
    assert set(stored) == {first[2]["id"], fresh[2]["id"]}, stored
    edit_json(stored[first[2]["id"]], createdAt=ago(days=2))
    svc.start()

    wait_until(lambda: not stored[first[2]["id"]].exists(), 15, what="the expired key removed")
    assert stored[fresh[2]["id"]].exists(), "a key within 24 h must stay"
    again = svc.post_event(service_key, "server.started", server_id, headers=expired_key)
    assert again[0] == 202 and again[2]["id"] != first[2]["id"], again
    assert again[2]["deliveries"] == 1
    repeat = svc.post_event(service_key, "server.started", server_id, headers=fresh_key)
    assert (repeat[0], repeat[2]) == (fresh[0], fresh[2])
    assert svc.delivery_total(key, w["id"]) == 3
