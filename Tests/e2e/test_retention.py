"""Pruning (docs/architecture.md: "Files on disk", "Storage"): finished deliveries older than `retention_days`
and idempotency answers older than 24 h are removed at start; pending deliveries stay."""

import json
import uuid
from datetime import datetime, timedelta, timezone

from conftest import fake_discord_config, unique_id, wait_until
from delivery_setup import new_discord_id, get_delivery


def iso(dt):
    return dt.strftime("%Y-%m-%dT%H:%M:%S.000Z")


def ago(**delta):
    return iso(datetime.now(timezone.utc) - timedelta(**delta))


# -- pruning ------------------------------------------------------------------------------------

def test_old_finished_deliveries_are_pruned_at_start(make_service, discord):
    svc = make_service(config=fake_discord_config(discord, retention_days=1))
    owner, key = svc.new_user()
    server_id = svc.new_server(owner)
    w = svc.create_webhook(key, url=discord.url(new_discord_id()))
    for n in range(5):
        svc.cli("emit", "server.started", "--server", server_id, "--data", json.dumps({"n": n}))
    found = svc.wait_for_deliveries(key, w["id"], 5, status="delivered")
    d0, d1, d2, d3, d4 = (d["id"] for d in reversed(found))  # oldest first
    svc.stop()

    old = ago(days=40)
    # The oldest is still pending (say, a long retry): it stays whatever its age.
    edit = svc.edit_stored_delivery
    edit(owner, w["id"], d0, createdAt=old, status="pending", deliveredAt=None, statusCode=500,
         nextAttemptAt=iso(datetime.now(timezone.utc) + timedelta(days=1)))
    edit(owner, w["id"], d1, createdAt=old)                                              # delivered
    edit(owner, w["id"], d2, createdAt=ago(days=2), status="failed", error="Discord answered 403")  # failed
    edit(owner, w["id"], d3, createdAt=ago(hours=12))                                    # recent
    svc.start()

    wait_until(lambda: svc.delivery_total(key, w["id"]) == 3, 15, what="pruning")
    assert [d["id"] for d in svc.deliveries(key, w["id"])] == [d4, d3, d0]
    for gone in (d1, d2):
        status, _, body = svc.request("GET", f"/webhooks/{w['id']}/deliveries/{gone}", key=key)
        assert (status, body) == (404, {"error": "Delivery not found"})
        assert not svc.stored_delivery_exists(owner, w["id"], gone)
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
    w = svc.create_webhook(key, url=discord.url(new_discord_id()))
    service_key = svc.service_key(unique_id("panel"))
    expired_key = {"Idempotency-Key": uuid.uuid4().hex}
    fresh_key = {"Idempotency-Key": uuid.uuid4().hex}
    first = svc.post_event(service_key, "server.started", server_id, headers=expired_key)
    fresh = svc.post_event(service_key, "server.started", server_id, headers=fresh_key)
    assert first[0] == 202 and fresh[0] == 202 and first[2]["id"] != fresh[2]["id"]
    assert svc.delivery_total(key, w["id"]) == 2
    svc.stop()

    stored = {record["body"]["id"]: name for name, record in svc.stored_answers().items()}
    assert set(stored) == {first[2]["id"], fresh[2]["id"]}, stored
    svc.edit_stored_answer(stored[first[2]["id"]], createdAt=ago(days=2))
    svc.start()

    wait_until(lambda: stored[first[2]["id"]] not in svc.stored_answers(), 15, what="the expired key removed")
    assert stored[fresh[2]["id"]] in svc.stored_answers(), "a key within 24 h must stay"
    again = svc.post_event(service_key, "server.started", server_id, headers=expired_key)
    assert again[0] == 202 and again[2]["id"] != first[2]["id"], again
    assert again[2]["deliveries"] == 1
    repeat = svc.post_event(service_key, "server.started", server_id, headers=fresh_key)
    assert (repeat[0], repeat[2]) == (fresh[0], fresh[2])
    assert svc.delivery_total(key, w["id"]) == 3
