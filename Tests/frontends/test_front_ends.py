"""The shipped Apache (mod_proxy_fcgi, mod_fcgid) and lighttpd configurations, end to end: the
real server from Debian's packages, the real `serve`, the fake Discord. Each front end is started
once for this module; the checks are the README's promises for every front end: the API answers
through it (keys passed on, /api/ too), 401 with `WWW-Authenticate`, its own 413 past 64 KiB,
events delivered, /metrics for this host only, and nothing else passed to the service.
"""

import json

import pytest

from front_ends import FRONT_ENDS, Lighttpd, raw_request
from conftest import assert_error, fake_discord_config, unique_id
from delivery_setup import new_discord_id
from fake_discord import FakeDiscord

# Over the front ends' 64 KiB, so that only the front end can answer 413 to a body in between.
SERVICE_MAX_BODY = 1024 * 1024
FRONT_END_MAX_BODY = 65536


@pytest.fixture(scope="module")
def fake_discord():
    fake = FakeDiscord().start()
    try:
        yield fake
    finally:
        fake.stop()


@pytest.fixture(scope="module", params=sorted(FRONT_ENDS))
def started_front(request, fake_discord):
    kind = FRONT_ENDS[request.param]
    kind.require_installed()
    front = kind(config=fake_discord_config(fake_discord, max_body_bytes=SERVICE_MAX_BODY))
    try:
        yield front.start()
    finally:
        front.cleanup()


@pytest.fixture
def front(started_front):
    yield started_front
    print(started_front.logs())  # pytest shows it only when the test failed


def test_the_api_answers_through_the_front_end(front, fake_discord):
    owner, key = front.new_user()
    hook = front.create_webhook(key, events=["server.started", "backup.created"],
                                url=fake_discord.url(new_discord_id()))
    assert hook["userId"] == owner

    status, _, listed = front.request("GET", "/webhooks", key=key)
    assert status == 200, listed
    assert [w["id"] for w in listed] == [hook["id"]]
    # /api/webhooks... is the same API.
    status, _, got = front.request("GET", f"/api/webhooks/{hook['id']}", key=key)
    assert status == 200, got
    assert (got["id"], got["events"]) == (hook["id"], ["server.started", "backup.created"])
    # The query string reaches the service.
    status, _, page = front.request("GET", f"/webhooks/{hook['id']}/deliveries?limit=1&offset=3",
                                    key=key)
    assert status == 200, page
    assert (page["limit"], page["offset"]) == (1, 3)


def test_a_request_without_a_key_gets_401_with_www_authenticate(front):
    for method, path in (("GET", "/webhooks"), ("GET", "/api/webhooks"), ("POST", "/events")):
        status, headers, body = front.request(method, path)
        assert_error(status, body, 401)
        assert headers["WWW-Authenticate"] == "Bearer", (method, path)


def test_a_body_over_64_kib_gets_the_front_ends_413(front):
    _, key = front.new_user()
    # At the limit the body reaches the service (which takes up to SERVICE_MAX_BODY).
    status, _, body = front.request("POST", "/webhooks", key=key, raw="x" * FRONT_END_MAX_BODY,
                                    headers={"Content-Type": "application/json"})
    assert_error(status, body, 400, "Invalid JSON body")

    over = "x" * (FRONT_END_MAX_BODY + 1)
    headers = {"Content-Type": "application/json", "Authorization": f"Bearer {key}"}
    if isinstance(front, Lighttpd):
        # lighttpd answers its own 413 with its HTML page: it has no way to give it the API's
        # JSON shape (README "Other front ends").
        status, _, _ = raw_request(front.port, "POST", "/webhooks", body=over, headers=headers)
        assert status == 413
    else:
        status, answer_headers, body = front.request("POST", "/webhooks", raw=over, headers=headers)
        assert_error(status, body, 413, "Request body too large")
        assert answer_headers["Content-Type"] == "application/json; charset=utf-8"


def test_an_event_is_delivered_to_discord(front, fake_discord):
    owner, key = front.new_user()
    server = front.new_server(owner)
    service_key = front.service_key(unique_id("panel"))
    discord_id = new_discord_id()
    hook = front.create_webhook(key, events=["server.started"], url=fake_discord.url(discord_id))

    status, _, body = front.post_event(service_key, "server.started", server,
                                       data={"frontEnd": front.name})
    assert status == 202, body
    assert body["deliveries"] == 1

    [sent] = fake_discord.wait_for(1, discord_id, timeout=15)
    assert sent.status == 200
    assert sent.body["embeds"][0]["title"] == "🔔 Server Started"
    [delivery] = front.wait_for_deliveries(key, hook["id"], status="delivered")
    assert delivery["statusCode"] == 200
    assert delivery["payload"]["data"] == {"frontEnd": front.name}


def test_metrics_reach_the_service_from_this_host_only(front):
    status, headers, body = raw_request(front.port, "GET", "/metrics")
    assert status == 200 and headers["Content-Type"].startswith("text/plain; version=0.0.4"), (status, headers)
    assert b"stellar_webhooks_build_info" in body
    status, headers, _ = raw_request(front.port, "GET", "/metrics", source="127.0.0.2")
    assert status == 403, status


@pytest.mark.parametrize("path", ["/webhooksx", "/eventsX", "/api/serversfoo"])
def test_paths_that_start_with_ours_get_the_apis_json_404(front, path):
    status, headers, body = raw_request(front.port, "GET", path)
    assert status == 404 and json.loads(body) == {"error": "Not found"}, (path, status, body[:200])


@pytest.mark.parametrize("path", ["/", "/api/other", "/api/metrics", "/metrics/x"])
def test_other_paths_are_not_passed_to_the_service(front, path):
    status, headers, body = raw_request(front.port, "GET", path)
    assert "text/html" in headers["Content-Type"], (path, status, body[:200])
    with pytest.raises(ValueError):
        json.loads(body)
