"""Workers keep copies of keys, servers and webhooks: a change made through any process (another
worker, the CLI) must be seen by every worker on its very next request. Several workers, and
every read repeated so that each lands on more than one of them."""

from conftest import DISCORD_URL

READS = 6  # requests after each change: with 3 workers, several reach each


def test_changes_through_the_api_are_seen_by_every_worker_at_once(make_service):
    svc = make_service(workers=3)
    _, key = svc.new_user()
    hook = svc.create_webhook(key)
    for n in range(20):
        events = ["server.started"] if n % 2 else ["backup.created", "server.stopped"]
        status, _, body = svc.request("PATCH", f"/webhooks/{hook['id']}", key=key, body={"events": events})
        assert status == 200, (status, body)
        for _ in range(READS):
            assert svc.webhook(key, hook["id"])["events"] == events
            listed = svc.request("GET", "/webhooks", key=key)[2]
            assert [w["events"] for w in listed] == [events]
    made = svc.create_webhook(key)
    for _ in range(READS):
        assert {w["id"] for w in svc.request("GET", "/webhooks", key=key)[2]} == {hook["id"], made["id"]}
    assert svc.request("DELETE", f"/webhooks/{made['id']}", key=key)[0] == 200
    for _ in range(READS):
        assert svc.request("GET", f"/webhooks/{made['id']}", key=key)[0] == 404
        assert [w["id"] for w in svc.request("GET", "/webhooks", key=key)[2]] == [hook["id"]]


def test_changes_through_the_cli_are_seen_by_every_worker_at_once(make_service):
    svc = make_service(workers=3)
    user, key = svc.new_user()
    server = svc.new_server(user, name="Before")
    hook = svc.create_webhook(key, url=DISCORD_URL, serverId=server)
    for _ in range(READS):
        assert svc.webhook(key, hook["id"])["server"]["name"] == "Before"
    svc.put_server(server, "After", user)
    for _ in range(READS):
        assert svc.webhook(key, hook["id"])["server"]["name"] == "After"

    fresh = svc.user_key(user)
    for _ in range(READS):
        assert svc.request("GET", "/webhooks", key=fresh)[0] == 200
    key_id = fresh.split("_")[1]
    svc.cli("keys", "revoke", key_id)
    for _ in range(READS):
        assert svc.request("GET", "/webhooks", key=fresh)[0] == 401
        assert svc.request("GET", "/webhooks", key=key)[0] == 200

    svc.cli("servers", "remove", server)  # removes the webhooks scoped to it
    for _ in range(READS):
        assert svc.request("GET", f"/webhooks/{hook['id']}", key=key)[0] == 404
        assert svc.request("GET", "/webhooks", key=key)[2] == []


def test_delivery_counts_in_the_list_follow_every_event(make_service):
    svc = make_service(workers=3)
    user, key = svc.new_user()
    server = svc.new_server(user)
    panel = svc.service_key("panel-fresh")
    hook = svc.create_webhook(key, url=DISCORD_URL)
    for n in range(1, 6):
        status, _, body = svc.post_event(panel, "server.started", server)
        assert status == 202 and body["deliveries"] == 1, (status, body)
        for _ in range(READS):
            [listed] = svc.request("GET", "/webhooks", key=key)[2]
            assert listed["id"] == hook["id"] and listed["_count"] == {"deliveries": n}
