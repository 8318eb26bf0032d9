"""The webhook endpoints: shapes, status codes, validation, ownership (docs/architecture.md: "A
request")."""

import json
import time

import pytest

from conftest import (CATEGORIES, DISCORD_URL, EVENTS, ISO_RE, JSON_CONTENT_TYPE, UUID_RE,
                      WEBHOOK_KEYS, WEBHOOK_OPTIONAL_KEYS, assert_error, detail_fields,
                      discord_url)


@pytest.fixture(scope="module")
def user(svc):
    return svc.new_user()


@pytest.fixture
def fresh_user(svc):
    return svc.new_user()


def assert_webhook_shape(w, user_id):
    assert WEBHOOK_KEYS <= set(w) <= WEBHOOK_KEYS | WEBHOOK_OPTIONAL_KEYS, sorted(w)
    assert UUID_RE.match(w["id"]), w["id"]
    assert w["userId"] == user_id
    assert w["provider"] == "discord"
    assert isinstance(w["enabled"], bool)
    assert isinstance(w["_count"], dict) and isinstance(w["_count"]["deliveries"], int)
    assert ISO_RE.match(w["createdAt"]) and ISO_RE.match(w["updatedAt"]), w
    assert w["updatedAt"] >= w["createdAt"]
    if w["serverId"] is None:
        assert w["server"] is None


# -- events catalogue ---------------------------------------------------------------------------

@pytest.mark.parametrize("path", ["/webhooks/events", "/api/webhooks/events"])
def test_events_catalogue(svc, user, path):
    status, headers, body = svc.request("GET", path, key=user[1])
    assert status == 200
    assert headers["Content-Type"] == JSON_CONTENT_TYPE
    assert set(body) == {"events", "categorized"}
    assert sorted(body["events"]) == sorted(EVENTS) and len(body["events"]) == 22
    assert set(body["categorized"]) == set(CATEGORIES)
    for category, names in body["categorized"].items():
        assert sorted(names) == sorted(e for e in EVENTS if e.startswith(category + ".")), category


# -- create / list / get / patch / delete ---------------------------------------------------------

def test_create_returns_201_with_exact_object(svc, fresh_user):
    user_id, key = fresh_user
    status, headers, w = svc.request("POST", "/webhooks", key=key, body={
        "url": DISCORD_URL, "events": ["server.started", "backup.created"]})
    assert status == 201, w
    assert headers["Content-Type"] == JSON_CONTENT_TYPE
    assert_webhook_shape(w, user_id)
    assert w["url"] == DISCORD_URL
    assert sorted(w["events"]) == ["backup.created", "server.started"]
    assert (w["serverId"], w["server"], w["enabled"]) == (None, None, True)
    assert w["_count"] == {"deliveries": 0}
    assert w.get("disabledReason") is None


def test_create_disabled_and_unknown_fields_ignored(svc, fresh_user):
    user_id, key = fresh_user
    w = svc.create_webhook(key, enabled=False, userId="someone-else", foo=1)
    assert w["enabled"] is False
    assert w["userId"] == user_id and w["provider"] == "discord" and "foo" not in w


def test_explicit_null_server_id_is_unscoped(svc, fresh_user):
    w = svc.create_webhook(fresh_user[1], serverId=None)
    assert (w["serverId"], w["server"]) == (None, None)


def test_list_is_newest_first_and_only_own(svc, fresh_user):
    _, key = fresh_user
    _, other_key = svc.new_user()
    svc.create_webhook(other_key)
    ids = []
    for n in range(3):
        ids.append(svc.create_webhook(key, url=discord_url(n))["id"])
        time.sleep(0.01)
    status, headers, listing = svc.request("GET", "/webhooks", key=key)
    assert status == 200 and headers["Content-Type"] == JSON_CONTENT_TYPE
    assert [w["id"] for w in listing] == ids[::-1]
    assert [w["url"] for w in listing] == [discord_url(n) for n in (2, 1, 0)]


def test_list_of_new_user_is_empty_array(svc, fresh_user):
    status, _, body = svc.request("GET", "/webhooks", key=fresh_user[1])
    assert (status, body) == (200, [])


def test_get_returns_webhook_with_deliveries(svc, fresh_user):
    _, key = fresh_user
    created = svc.create_webhook(key)
    got = svc.webhook(key, created["id"])
    assert got.pop("deliveries") == []
    assert got == created


def test_patch_changes_only_given_fields(svc, fresh_user):
    user_id, key = fresh_user
    created = svc.create_webhook(key, events=["server.started"])
    time.sleep(0.01)
    status, _, patched = svc.request("PATCH", f"/webhooks/{created['id']}", key=key,
                                     body={"enabled": False})
    assert status == 200, patched
    assert_webhook_shape(patched, user_id)
    assert patched["enabled"] is False
    assert patched["updatedAt"] > created["updatedAt"]
    for field in ("id", "url", "events", "serverId", "createdAt", "userId"):
        assert patched[field] == created[field], field

    status, _, patched = svc.request("PATCH", f"/webhooks/{created['id']}", key=key, body={
        "url": discord_url(7), "events": ["BACKUP_CREATED", "backup.created"], "enabled": True})
    assert status == 200, patched
    assert (patched["url"], patched["events"], patched["enabled"]) == (
        discord_url(7), ["backup.created"], True)
    got = svc.webhook(key, created["id"])
    got.pop("deliveries")
    assert got == patched


def test_delete_removes_webhook(svc, fresh_user):
    _, key = fresh_user
    keep = svc.create_webhook(key)
    gone = svc.create_webhook(key)
    status, headers, body = svc.request("DELETE", f"/webhooks/{gone['id']}", key=key)
    assert (status, body) == (200, {"success": True})
    assert headers["Content-Type"] == JSON_CONTENT_TYPE
    assert_error(*svc.request("GET", f"/webhooks/{gone['id']}", key=key)[::2], 404,
                 "Webhook not found")
    assert_error(*svc.request("DELETE", f"/webhooks/{gone['id']}", key=key)[::2], 404,
                 "Webhook not found")
    listing = svc.request("GET", "/webhooks", key=key)[2]
    assert [w["id"] for w in listing] == [keep["id"]]


def test_api_prefix_is_the_same_api(svc, fresh_user):
    _, key = fresh_user
    status, _, created = svc.request("POST", "/api/webhooks", key=key,
                                     body={"url": DISCORD_URL, "events": ["file.created"]})
    assert status == 201, created
    status, _, got = svc.request("GET", f"/api/webhooks/{created['id']}", key=key)
    assert status == 200 and got["id"] == created["id"]
    assert [w["id"] for w in svc.request("GET", "/webhooks", key=key)[2]] == [created["id"]]
    status, _, body = svc.request("DELETE", f"/api/webhooks/{created['id']}", key=key)
    assert (status, body) == (200, {"success": True})


# -- events in input ------------------------------------------------------------------------------

def test_upper_case_aliases_become_canonical_and_duplicates_collapse(svc, user):
    w = svc.create_webhook(user[1], events=[
        "SERVER_STARTED", "server.started", "BACKUP_CREATED", "SERVER_AUTO_SHUTDOWN",
        "resource.critical", "RESOURCE_CRITICAL"])
    assert sorted(w["events"]) == ["backup.created", "resource.critical", "server.auto_shutdown",
                                   "server.started"]


def test_unknown_events_are_listed_as_sent(svc, user):
    status, _, body = svc.request("POST", "/webhooks", key=user[1], body={
        "url": DISCORD_URL, "events": ["server.started", "nope", "SERVER_EXPLODED", "Server.Started"]})
    assert status == 400
    assert body == {"error": "Invalid events",
                    "invalidEvents": ["nope", "SERVER_EXPLODED", "Server.Started"]}


def test_patch_with_unknown_event_is_400_and_changes_nothing(svc, user):
    _, key = user
    w = svc.create_webhook(key)
    status, _, body = svc.request("PATCH", f"/webhooks/{w['id']}", key=key,
                                  body={"events": ["bogus.event"], "enabled": False})
    assert (status, body) == (400, {"error": "Invalid events", "invalidEvents": ["bogus.event"]})
    after = svc.webhook(key, w["id"])
    assert after["enabled"] is True and after["events"] == ["server.started"]


# -- validation -----------------------------------------------------------------------------------

LONG_URL = DISCORD_URL + "a" * (2049 - len(DISCORD_URL))


@pytest.mark.parametrize("body,fields", [
    ({}, {"url", "events"}),
    ({"url": 5, "events": "server.started", "serverId": 7, "enabled": "yes"},
     {"url", "events", "serverId", "enabled"}),
    ({"url": "https://example.com/api/webhooks/123456789012345678/tok", "events": []},
     {"url", "events"}),
    ({"url": LONG_URL, "events": [1, 2]}, {"url", "events"}),
    ({"url": None, "events": None}, {"url", "events"}),
    ({"url": DISCORD_URL, "events": ["server.started"], "enabled": 1}, {"enabled"}),
], ids=["missing", "wrong-types", "not-discord-and-empty", "too-long-and-not-strings", "nulls",
        "enabled-number"])
def test_validation_lists_every_problem(svc, user, body, fields):
    status, headers, answer = svc.request("POST", "/webhooks", key=user[1], body=body)
    assert status == 400, answer
    assert headers["Content-Type"] == JSON_CONTENT_TYPE
    assert set(answer) == {"error", "details"}
    assert detail_fields(answer) == fields


def test_patch_validation_lists_every_problem(svc, user):
    _, key = user
    w = svc.create_webhook(key)
    status, _, answer = svc.request("PATCH", f"/webhooks/{w['id']}", key=key,
                                    body={"url": "ftp://x", "events": [], "enabled": "no"})
    assert status == 400, answer
    assert detail_fields(answer) == {"url", "events", "enabled"}


@pytest.mark.parametrize("url", [
    "https://discord.com/api/webhooks/12345678901234567/tok",          # 17 digits
    "https://discord.com/api/webhooks/12345678901234567890/tok",       # 20 digits
    "https://discord.com/api/v10/webhooks/123456789012345678/abc-_XY",
    "https://discordapp.com/api/webhooks/123456789012345678/tok",
    "https://ptb.discord.com/api/webhooks/123456789012345678/tok",
    "https://canary.discord.com/api/v9/webhooks/123456789012345678/tok",
    "https://discord.com/api/webhooks/123456789012345678/tok?thread_id=123456789012345678",
])
def test_valid_discord_urls_are_accepted(svc, user, url):
    assert svc.create_webhook(user[1], url=url)["url"] == url


@pytest.mark.parametrize("url", [
    "http://discord.com/api/webhooks/123456789012345678/tok",
    "https://evil.com/api/webhooks/123456789012345678/tok",
    "https://discord.com.evil.com/api/webhooks/123456789012345678/tok",
    "https://user:pw@discord.com/api/webhooks/123456789012345678/tok",
    "https://discord.com/api/webhooks/123456789012345678/tok#frag",
    "https://discord.com/api/webhooks/0123456789012345678/tok",          # a leading zero
    "https://discord.com/api/webhooks/18446744073709551616/tok",         # past 2^64 - 1
    "https://discord.com/api/webhooks/123456789012345678/tok?thread_id=0123",
    "https://discord.com/api/webhooks/123456789012345678/tok?wait=true",
    "https://discord.com/api/webhooks/1234567890123456/tok",            # 16 digits
    "https://discord.com/api/webhooks/123456789012345678901/tok",       # 21 digits
    "https://discord.com/api/webhooks/123456789012345678/to.k",
    "https://discord.com/api/webhooks/123456789012345678/",
    "https://discord.com/api/webhooks/123456789012345678/tok/extra",
    "https://discord.com/webhooks/123456789012345678/tok",
    "not a url",
    "",
])
def test_invalid_urls_are_rejected(svc, user, url):
    status, _, answer = svc.request("POST", "/webhooks", key=user[1],
                                    body={"url": url, "events": ["server.started"]})
    assert status == 400, answer
    assert detail_fields(answer) == {"url"}


@pytest.mark.parametrize("raw", ["{not json", "", "[1, 2]", '"a string"', "42", "null", "true",
                                 b"\xff\xfe{}"])
def test_body_not_a_json_object_is_400(svc, user, raw):
    status, _, answer = svc.request("POST", "/webhooks", key=user[1], raw=raw,
                                    headers={"Content-Type": "application/json"})
    assert (status, answer) == (400, {"error": "Invalid JSON body"})


def test_json_with_charset_is_accepted(svc, user):
    status, _, answer = svc.request(
        "POST", "/webhooks", key=user[1],
        raw=json.dumps({"url": DISCORD_URL, "events": ["server.started"]}),
        headers={"Content-Type": "application/json; charset=utf-8"})
    assert status == 201, answer


@pytest.mark.parametrize("content_type", ["text/plain", "application/x-www-form-urlencoded"])
def test_other_content_type_is_415(svc, user, content_type):
    _, key = user
    raw = json.dumps({"url": DISCORD_URL, "events": ["server.started"]})
    status, headers, answer = svc.request("POST", "/webhooks", key=key, raw=raw,
                                          headers={"Content-Type": content_type})
    assert_error(status, answer, 415)
    assert headers["Content-Type"] == JSON_CONTENT_TYPE
    w = svc.create_webhook(key)
    status, _, answer = svc.request("PATCH", f"/webhooks/{w['id']}", key=key,
                                    raw='{"enabled": false}', headers={"Content-Type": content_type})
    assert_error(status, answer, 415)
    assert svc.webhook(key, w["id"])["enabled"] is True


def test_body_over_nginx_limit_is_413_json(svc, user):
    body = {"url": DISCORD_URL, "events": ["server.started"], "pad": "x" * 70000}
    status, headers, answer = svc.request("POST", "/webhooks", key=user[1], body=body)
    assert_error(status, answer, 413)
    assert headers["Content-Type"].startswith("application/json")


def test_body_over_max_body_bytes_is_413_from_app(make_service):
    small = make_service(max_body_bytes=1000)
    _, key = small.new_user()
    fits = {"url": DISCORD_URL, "events": ["server.started"], "pad": "x" * 800}
    status, _, answer = small.request("POST", "/webhooks", key=key, body=fits)
    assert status == 201, answer
    too_big = dict(fits, pad="x" * 2000)
    status, headers, answer = small.request("POST", "/webhooks", key=key, body=too_big)
    assert_error(status, answer, 413)
    assert headers["Content-Type"] == JSON_CONTENT_TYPE
    assert len(small.request("GET", "/webhooks", key=key)[2]) == 1


@pytest.mark.parametrize("method,path,allowed", [
    ("DELETE", "/webhooks", {"GET", "POST"}),
    ("PUT", "/webhooks/{id}", {"GET", "PATCH", "DELETE"}),
    ("POST", "/webhooks/events", {"GET"}),
    ("DELETE", "/webhooks/{id}/deliveries", {"GET"}),
])
def test_wrong_method_is_405_with_allow(svc, user, method, path, allowed):
    _, key = user
    w = svc.create_webhook(key)
    status, headers, answer = svc.request(method, path.format(id=w["id"]), key=key)
    assert_error(status, answer, 405)
    allow = {m.strip() for m in (headers.get("Allow") or "").split(",") if m.strip()}
    assert allowed <= allow and method not in allow, headers.get("Allow")


@pytest.mark.parametrize("path", ["/webhooks/{id}/nope", "/webhooks/{id}/deliveries/x/y/z",
                                  "/webhooks/{id}/test/again", "/webhooks/events/x"])
def test_unknown_route_is_404_not_found(svc, user, path):
    _, key = user
    w = svc.create_webhook(key)
    status, _, answer = svc.request("GET", path.format(id=w["id"]), key=key)
    assert (status, answer) == (404, {"error": "Not found"})


# -- ownership ------------------------------------------------------------------------------------

@pytest.mark.parametrize("method,suffix,body", [
    ("GET", "", None),
    ("PATCH", "", {"enabled": False}),
    ("DELETE", "", None),
    ("GET", "/deliveries", None),
    ("GET", "/deliveries/00000000-0000-4000-8000-000000000000", None),
])
def test_other_users_webhook_is_404(svc, method, suffix, body):
    _, owner_key = svc.new_user()
    _, intruder_key = svc.new_user()
    w = svc.create_webhook(owner_key)
    for webhook_id in (w["id"], "00000000-0000-4000-8000-000000000000", "not-a-uuid"):
        status, _, answer = svc.request(method, f"/webhooks/{webhook_id}{suffix}",
                                        key=intruder_key, body=body)
        assert (status, answer) == (404, {"error": "Webhook not found"}), webhook_id
    after = svc.webhook(owner_key, w["id"])
    after.pop("deliveries")
    assert after == w


def test_server_scope_needs_an_owned_server(svc):
    owner, owner_key = svc.new_user()
    other, _ = svc.new_user()
    others_server = svc.new_server(other)
    for server_id in (others_server, "srv-does-not-exist"):
        status, _, answer = svc.request("POST", "/webhooks", key=owner_key, body={
            "url": DISCORD_URL, "events": ["server.started"], "serverId": server_id})
        assert (status, answer) == (404, {"error": "Server not found or not owned by you"})
    assert svc.request("GET", "/webhooks", key=owner_key)[2] == []


def test_server_scoped_webhook_carries_server_object(svc):
    owner, key = svc.new_user()
    server_id = svc.put_server("srv-scope-" + owner, "Survival SMP", owner, "RUNNING")
    w = svc.create_webhook(key, serverId=server_id)
    assert w["serverId"] == server_id
    assert w["server"] == {"id": server_id, "name": "Survival SMP"}
    listed = svc.request("GET", "/webhooks", key=key)[2]
    assert listed[0]["server"] == {"id": server_id, "name": "Survival SMP"}
    assert svc.webhook(key, w["id"])["server"] == {"id": server_id, "name": "Survival SMP"}
