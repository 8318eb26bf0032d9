"""Authentication and authorisation (docs/architecture.md: "A request")."""

import pytest

from conftest import KEY_RE, assert_error

USER_ROUTES = [("GET", "/webhooks"), ("GET", "/webhooks/events"), ("POST", "/webhooks")]
SERVICE_ROUTES = [("POST", "/events"), ("PUT", "/servers/srv-auth"),
                  ("DELETE", "/servers/srv-auth")]


def assert_unauthorized(status, headers, body):
    assert_error(status, body, 401, "Unauthorized")
    assert body == {"error": "Unauthorized"}
    assert (headers.get("WWW-Authenticate") or "").startswith("Bearer"), dict(headers)


@pytest.fixture(scope="module")
def user(svc):
    return svc.new_user()


def test_key_format_is_prefixed_with_id_and_long_secret(svc):
    a, b = svc.user_key("user-fmt"), svc.user_key("user-fmt")
    for key in (a, b):
        _, secret = KEY_RE.match(key).groups()
        assert len(secret) >= 43, "at least 256 bits of secret"
    assert a != b and a[4:20] != b[4:20]


@pytest.mark.parametrize("method,path", USER_ROUTES + SERVICE_ROUTES)
def test_missing_key_is_401(svc, method, path):
    assert_unauthorized(*svc.request(method, path, body={}))


@pytest.mark.parametrize("authorization", [
    "",
    "Bearer",
    "Bearer ",
    "Basic dXNlcjpwYXNz",
    "Bearer not-a-key",
    "Bearer swh_",
    "Bearer swh_0123456789abcdef",
    "Bearer swh_0123456789abcdef_",
    "Bearer swh_XYZ3456789abcdef_secret",
    "Bearer swh_0123456789abcdef_unknownsecretunknownsecretunknownsecret0",
])
def test_malformed_or_unknown_key_is_401(svc, authorization):
    assert_unauthorized(*svc.request("GET", "/webhooks", headers={"Authorization": authorization}))


def test_known_key_id_with_wrong_secret_is_401(svc, user):
    _, key = user
    wrong = key[:-4] + ("aaaa" if not key.endswith("aaaa") else "bbbb")
    assert_unauthorized(*svc.request("GET", "/webhooks", key=wrong))


def test_secret_of_one_key_under_another_key_id_is_401(svc, user):
    _, key = user
    other = svc.user_key("user-other-id")
    swapped = other[:20] + key[20:]
    assert_unauthorized(*svc.request("GET", "/webhooks", key=swapped))


def test_user_key_acts_as_its_user(svc, user):
    user_id, key = user
    created = svc.create_webhook(key)
    assert created["userId"] == user_id
    status, _, listing = svc.request("GET", "/webhooks", key=key)
    assert status == 200 and [w["id"] for w in listing] == [created["id"]]


@pytest.mark.parametrize("method,path", USER_ROUTES + [("GET", "/webhooks/some-id"),
                                                       ("DELETE", "/webhooks/some-id")])
def test_service_key_on_webhooks_is_403(svc, method, path):
    key = svc.service_key("panel-403")
    status, _, body = svc.request(method, path, key=key, body={} if method == "POST" else None)
    assert_error(status, body, 403, "Forbidden")
    assert body == {"error": "Forbidden"}


@pytest.mark.parametrize("method,path", SERVICE_ROUTES)
def test_user_key_on_service_endpoints_is_403(svc, user, method, path):
    user_id, key = user
    body = {"event": "server.started", "serverId": "srv-auth", "name": "x", "ownerId": user_id}
    status, _, answer = svc.request(method, path, key=key,
                                    body=body if method != "DELETE" else None)
    assert_error(status, answer, 403, "Forbidden")


def test_revocation_is_effective_on_next_request(svc):
    key = svc.user_key("user-revoke")
    key_id = key[4:20]
    assert svc.request("GET", "/webhooks", key=key)[0] == 200
    svc.cli("keys", "revoke", key_id)
    assert_unauthorized(*svc.request("GET", "/webhooks", key=key))
    assert_unauthorized(*svc.request("GET", "/webhooks/events", key=key))


def test_revoked_service_key_is_401(svc):
    key = svc.service_key("panel-revoke")
    status, _, _ = svc.request("PUT", "/servers/srv-rev", key=key,
                               body={"name": "n", "ownerId": "user-rev"})
    assert status == 200
    svc.cli("keys", "revoke", key[4:20])
    assert_unauthorized(*svc.request("PUT", "/servers/srv-rev", key=key,
                                     body={"name": "n", "ownerId": "user-rev"}))


def test_keys_list_shows_kind_owner_and_state_never_the_secret(svc):
    user_key = svc.user_key("user-list", label="laptop")
    service_key = svc.service_key("panel-list", label="panel")
    svc.cli("keys", "revoke", user_key[4:20])
    out = svc.cli("keys", "list").stdout
    lines = {line.split()[0]: line.split() for line in out.splitlines() if line.strip()}
    assert lines[user_key[4:20]][1:4] == ["user", "user-list", "revoked"]
    assert lines[service_key[4:20]][1:4] == ["service", "panel-list", "active"]
    assert user_key[21:] not in out and service_key[21:] not in out


def test_logs_never_show_keys_bodies_or_discord_tokens(make_service):
    svc = make_service(log_level="trace")
    owner, key = svc.new_user()
    panel = svc.service_key("panel-logs")
    server_id = svc.new_server(owner)
    token = "SeCrEtToKeN_e2e-42"
    url = f"https://discord.com/api/webhooks/123456789012345678/{token}"
    w = svc.create_webhook(key, url=url, note="body-marker-e2e")
    svc.request("PATCH", f"/webhooks/{w['id']}", key=key, body={"url": url + "x"})
    svc.request("POST", "/webhooks", key=key, body={"url": url + "#frag", "events": ["x"]})
    svc.post_event(panel, "server.started", server_id, data={"marker": "data-marker-e2e"})
    svc.request("GET", "/webhooks", key=key[:-3] + "zzz")
    svc.request("GET", "/webhooks", headers={"Authorization": "Bearer swh_0123456789abcdef_leak"})
    svc.stop()
    log = svc.serve_log.read_text()
    assert log.strip(), "serve logged nothing at all"
    for secret in (key[21:], panel[21:], key[21:-3], token, "body-marker-e2e", "data-marker-e2e",
                   "swh_0123456789abcdef_leak"):
        assert secret not in log, f"{secret!r} appears in the service log"
