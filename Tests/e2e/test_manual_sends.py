"""The sends a user asks for: `POST /webhooks/{id}/test` and a manual retry of a delivery
(docs/architecture.md: "A request", "A delivery"). Each answers with the result of its one send
and is never retried."""

import time
import uuid
from datetime import datetime, timedelta, timezone

import pytest

from conftest import (ISO_RE, JSON_CONTENT_TYPE, UUID_RE, assert_error, fake_discord_config,
                      unique_id)
from delivery_setup import new_discord_id, get_delivery, embed_field


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
    wid = new_discord_id()
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
    wid = new_discord_id()
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
    wid = new_discord_id()
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
    wid = new_discord_id()
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
    wid = new_discord_id()
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
    assert embed_field(second.body, "Backup Id") == "b-42"

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
    wid = new_discord_id()
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
    other = svc.create_webhook(key, url=discord.url(new_discord_id()))
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
