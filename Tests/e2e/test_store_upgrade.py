"""A flat-file store written before `webhooks.jsonl` (a `webhook.json` per webhook folder) is
moved into the user's log when `serve` starts, losing nothing; and the folder of a webhook whose
delete was killed after its removal line is removed then."""

import json
import time
import uuid

import pytest

from conftest import DISCORD_URL

pytestmark = pytest.mark.files_only


def now():
    return time.strftime("%Y-%m-%dT%H:%M:%S.000Z", time.gmtime())


def legacy_webhook(user, created_at, events):
    return {"id": str(uuid.uuid4()), "userId": user, "url": DISCORD_URL, "events": events,
            "serverId": None, "enabled": True, "provider": "discord",
            "createdAt": created_at, "updatedAt": created_at}


def test_serve_moves_webhook_files_into_the_log_and_removes_folders_of_deleted_webhooks(make_service):
    svc = make_service(start=False, max_webhooks_per_user=3)
    svc.data_dir.mkdir(mode=0o700)  # a store from before: its data_dir is there
    user, key = svc.new_user()
    webhooks = svc.data_dir / "users" / user / "webhooks"
    older = legacy_webhook(user, "2026-01-15T12:00:00.000Z", ["server.started"])
    newer = legacy_webhook(user, "2026-01-15T12:00:01.000Z", ["backup.created"])
    for hook in (older, newer):
        (webhooks / hook["id"]).mkdir(mode=0o700, parents=True)
        (webhooks / hook["id"] / "webhook.json").write_text(json.dumps(hook, indent=2, sort_keys=True) + "\n")
    # Its deliveries stay where they are.
    delivery = {"id": str(uuid.uuid4()), "webhookId": older["id"], "userId": user,
                "event": "server.started",
                "payload": {"event": "server.started", "timestamp": now(), "data": {"n": 1}},
                "status": "delivered",
                "statusCode": 204, "response": None, "error": None, "attempts": 1,
                "nextAttemptAt": None, "deliveredAt": now(), "retryOf": None, "createdAt": now(),
                "retriesUsed": 0, "manual": False}
    (webhooks / older["id"] / "deliveries").mkdir(mode=0o700)
    (webhooks / older["id"] / "deliveries" / f"{delivery['id']}.json").write_text(json.dumps(delivery))
    (webhooks / older["id"] / "deliveries.idx").write_text(f"{delivery['id']}\n")
    orphan = webhooks / str(uuid.uuid4())
    (orphan / "deliveries").mkdir(mode=0o700, parents=True)

    svc.start()

    status, _, listed = svc.request("GET", "/webhooks", key=key)
    assert status == 200, listed
    assert [(w["id"], w["events"], w["_count"]["deliveries"]) for w in listed] == \
        [(newer["id"], ["backup.created"], 0), (older["id"], ["server.started"], 1)]
    status, _, page = svc.request("GET", f"/webhooks/{older['id']}/deliveries", key=key)
    assert status == 200 and [d["id"] for d in page["deliveries"]] == [delivery["id"]], page
    assert not (webhooks / older["id"] / "webhook.json").exists()
    assert not (webhooks / newer["id"] / "webhook.json").exists()
    assert not orphan.exists(), "the folder of no webhook is removed"
    log = (svc.data_dir / "users" / user / "webhooks.jsonl").read_text().splitlines()
    assert [json.loads(line)["webhook"]["id"] for line in log] == [older["id"], newer["id"]]
    assert "moved webhooks into webhooks.jsonl" in svc.serve_log.read_text()

    # The moved webhooks count against the limit and take changes like any other.
    svc.create_webhook(key)
    status, _, body = svc.request("POST", "/webhooks", key=key,
                                  body={"url": DISCORD_URL, "events": ["server.started"]})
    assert (status, body.get("limit")) == (400, 3), body
    status, _, body = svc.request("PATCH", f"/webhooks/{newer['id']}", key=key, body={"enabled": False})
    assert status == 200 and body["enabled"] is False, body
    status, _, body = svc.request("DELETE", f"/webhooks/{older['id']}", key=key)
    assert status == 200, body
    assert not (webhooks / older["id"]).exists()

    svc.stop()
    svc.start()  # a second start finds nothing to move
    status, _, listed = svc.request("GET", "/webhooks", key=key)
    assert status == 200 and len(listed) == 2 and older["id"] not in [w["id"] for w in listed], listed
