"""docs/openapi.yaml: a valid OpenAPI 3.1 document of every route, and the checker (openapi_check.py)
that conftest's Service.request applies to every answer of every e2e test."""

import http.client

import pytest
from jsonschema import Draft202012Validator
from openapi_spec_validator import validate
from openapi_spec_validator.readers import read_from_filename

from conftest import discord_url
from openapi_check import DOC_URI, DOCUMENT, OpenAPIMismatch, contract

# Every route of Sources/WebhooksCore/API/Router.swift, and the key kind that may call it.
ROUTES = {
    ("GET", "/webhooks/events"): "userKey",
    ("GET", "/webhooks"): "userKey",
    ("POST", "/webhooks"): "userKey",
    ("GET", "/webhooks/{id}"): "userKey",
    ("PATCH", "/webhooks/{id}"): "userKey",
    ("DELETE", "/webhooks/{id}"): "userKey",
    ("GET", "/webhooks/{id}/deliveries"): "userKey",
    ("GET", "/webhooks/{id}/deliveries/{deliveryId}"): "userKey",
    ("POST", "/webhooks/{id}/deliveries/{deliveryId}/retry"): "userKey",
    ("POST", "/webhooks/{id}/test"): "userKey",
    ("GET", "/webhooks/{id}/secret"): "userKey",
    ("POST", "/webhooks/{id}/secret/rotate"): "userKey",
    ("POST", "/webhooks/{id}/recover"): "userKey",
    ("PUT", "/servers/{id}"): "serviceKey",
    ("DELETE", "/servers/{id}"): "serviceKey",
    ("POST", "/events"): "serviceKey",
}
# Routes that take no key (the shipped snippets admit loopback only).
OPEN_ROUTES = {("GET", "/metrics")}
BODY_ROUTES = {("POST", "/webhooks"), ("PATCH", "/webhooks/{id}"), ("PUT", "/servers/{id}"),
               ("POST", "/events"), ("POST", "/webhooks/{id}/recover")}
SEND_ROUTES = {("POST", "/webhooks/{id}/deliveries/{deliveryId}/retry"),
               ("POST", "/webhooks/{id}/test")}


def operations():
    doc = contract().document
    for path, item in doc["paths"].items():
        for method in ("get", "put", "post", "delete", "patch", "head", "options", "trace"):
            if method in item:
                yield method.upper(), path, item[method]


def test_document_is_valid_openapi_3_1():
    spec, _ = read_from_filename(str(DOCUMENT))
    assert spec["openapi"].startswith("3.1")
    validate(spec)


def test_every_route_is_documented_with_its_key_kind_and_errors():
    found = {(m, p): op for m, p, op in operations()}
    assert set(found) == set(ROUTES) | OPEN_ROUTES
    for route in OPEN_ROUTES:
        assert found[route]["security"] == [], route
    ids = [op["operationId"] for op in found.values()]
    assert len(set(ids)) == len(ids)
    for route, scheme in ROUTES.items():
        op = found[route]
        assert op["security"] == [{scheme: []}], route
        statuses = set(op["responses"])
        always = {"400", "401", "403", "413", "429", "502", "503", "504"}
        assert always <= statuses, (route, always - statuses)
        assert any(s.startswith("2") for s in statuses), route
        if route in BODY_ROUTES:
            assert "415" in statuses and op["requestBody"]["required"], route
        if route in SEND_ROUTES:
            assert "500" in statuses, route
        else:
            assert not {s for s in statuses if s.startswith("5")} - {"502", "503", "504"}, route


def test_examples_match_their_schemas():
    doc = contract().document
    checked = 0

    def check(pointer, example):
        nonlocal checked
        validator = Draft202012Validator({"$ref": f"{DOC_URI}#{pointer}"},
                                         registry=contract().registry)
        errors = list(validator.iter_errors(example))
        assert not errors, (pointer, example, errors[0].message)
        checked += 1

    for method, path, op in operations():
        base = "/paths/{}/{}".format(path.replace("/", "~1"), method.lower())
        body = op.get("requestBody", {}).get("content", {}).get("application/json")
        for example in (body or {}).get("examples", {}).values():
            check(base + "/requestBody/content/application~1json/schema", example["value"])
        for status, response in op["responses"].items():
            pointer = (response["$ref"][1:] if "$ref" in response
                       else f"{base}/responses/{status}")
            media = contract().resolve(response).get("content", {}).get("application/json", {})
            if "example" in media:
                check(pointer + "/content/application~1json/schema", media["example"])
            for example in media.get("examples", {}).values():
                check(pointer + "/content/application~1json/schema", example["value"])
    assert checked >= 20


def test_webhook_urls_have_a_format_for_fuzzers():
    schema = contract().document["components"]["schemas"]["DiscordWebhookUrl"]
    assert schema["format"] == "discord-webhook-url" and schema["description"]


# -- the checker ---------------------------------------------------------------------------------

class Headers(dict):
    """Case-insensitive enough for the checker's .get."""

    def get(self, name, default=None):
        for key, value in self.items():
            if key.lower() == name.lower():
                return value
        return default


JSON = {"Content-Type": "application/json; charset=utf-8"}


def check(method, path, status, body, **headers):
    contract().check(method, path, status, Headers({**JSON, **headers}), body.encode())


def test_checker_matches_paths_like_the_router():
    c = contract()
    assert c.match("/webhooks/events")[0] == "/webhooks/events"
    assert c.match("/api/webhooks/abc?limit=5")[0] == "/webhooks/{id}"
    assert c.match("//webhooks//abc/deliveries/")[0] == "/webhooks/{id}/deliveries"
    assert c.match("/api/events")[0] == "/events"
    assert c.match("/webhooks/a/b")[0] is None


@pytest.mark.parametrize("method,path,status,body,headers,why", [
    ("GET", "/webhooks", 200, '{"x":1}', {}, "is not of type 'array'"),
    ("GET", "/webhooks", 418, '{"error":"x"}', {}, "status 418 is not documented"),
    ("GET", "/webhooks", 401, '{"error":"Unauthorized"}', {}, "missing header WWW-Authenticate"),
    ("POST", "/webhooks/x/test", 500, '{"error":"Internal server error"}', {}, "body"),
    ("POST", "/webhooks/x/test", 429, '{"error":"A send is already in progress"}', {},
     "Retry-After"),
    ("GET", "/webhooks/events", 503, '{"error":"Storage unavailable"}', {}, "Retry-After"),
    ("PUT", "/webhooks", 405, '{"error":"Method not allowed"}', {"Allow": "GET"}, "Allow"),
    ("GET", "/nowhere", 200, '{}', {}, "404"),
    ("GET", "/webhooks/a/b", 404, "<html>", {"Content-Type": "text/html"}, "Content-Type"),
])
def test_checker_rejects_what_the_document_does_not_say(method, path, status, body, headers, why):
    with pytest.raises(OpenAPIMismatch, match=why):
        check(method, path, status, body, **headers)


def test_checker_accepts_documented_answers():
    check("GET", "/api/webhooks", 401, '{"error":"Unauthorized"}', **{"WWW-Authenticate": "Bearer"})
    check("PUT", "/webhooks", 405, '{"error":"Method not allowed"}', Allow="GET, POST")
    check("GET", "/webhooks/a/b", 404, '{"error":"Not found"}')
    check("POST", "/webhooks/x/test", 429, '{"error":"Too many requests"}')
    check("POST", "/webhooks/x/test", 429, '{"error":"Too many sends in progress"}',
          **{"Retry-After": "1"})
    check("POST", "/events", 503, '{"error":"Storage unavailable"}', **{"Retry-After": "5"})
    check("POST", "/webhooks", 400, '{"error":"Webhook limit reached","limit":100}')


def test_the_document_has_the_binarys_version(svc):
    assert contract().document["info"]["version"] == svc.cli("--version").stdout.strip()


# -- the live service through nginx (each answer is also checked by conftest) --------------------

def test_paths_near_ours_and_unknown_ones_answer_the_apis_json_404(svc):
    """The shipped snippet sends every path that starts with one of the API's names to the
    service; the development configuration sends every other path there too."""
    _, key = svc.new_user()
    for path in ("/webhooksfoo", "/eventsX", "/serversabc", "/api/webhooksfoo", "/", "/health", "/index.html"):
        for with_key in (key, None):
            status, headers, body = svc.request("GET", path, key=with_key)
            assert status == 404 and body == {"error": "Not found"}, (path, status, body)
            assert headers["Content-Type"] == "application/json; charset=utf-8"


def test_a_replayed_idempotent_answer_says_so(svc):
    owner, _ = svc.new_user()
    server = svc.new_server(owner)
    skey = svc.service_key("panel-replay")
    first = svc.post_event(skey, "server.started", server, headers={"Idempotency-Key": "replay-1"})
    again = svc.post_event(skey, "server.started", server, headers={"Idempotency-Key": "replay-1"})
    assert first[0] == again[0] == 202 and first[2] == again[2]
    assert first[1].get("Idempotent-Replayed") is None
    assert again[1].get("Idempotent-Replayed") == "true"


def test_undocumented_paths_and_methods_answer_json_errors(svc):
    _, key = svc.new_user()
    for path in ("/webhooks/a/b", "/api/webhooks/a/b/c/d/e/f", "/servers", "/events/x"):
        status, _, body = svc.request("GET", path, key=key)
        assert status == 404 and body == {"error": "Not found"}, (path, status, body)
    for method, path, allow in (("PUT", "/webhooks", "GET, POST"), ("POST", "/webhooks/x", "DELETE, GET, PATCH"),
                                ("GET", "/api/events", "POST"), ("PATCH", "/webhooks/events", "GET"),
                                ("OPTIONS", "/servers/x", "DELETE, PUT")):
        status, headers, body = svc.request(method, path, key=key)
        assert status == 405 and headers["Allow"] == allow, (method, path, status, body)
        assert body == {"error": "Method not allowed"}


def test_a_round_trip_of_every_operation_is_documented(svc):
    """A request of each operation but the sends, through /api as well; conftest checks every
    answer."""
    owner, key = svc.new_user()
    skey = svc.service_key("openapi-roundtrip")
    server = "srv-openapi"
    assert svc.request("PUT", f"/api/servers/{server}", key=skey,
                       body={"name": "S", "ownerId": owner})[0] == 200
    assert svc.request("GET", "/api/webhooks/events", key=key)[0] == 200
    status, _, hook = svc.request("POST", "/api/webhooks", key=key,
                                  body={"url": discord_url(7), "events": ["SERVER_STARTED"],
                                        "serverId": server})
    assert status == 201, hook
    assert svc.request("GET", "/webhooks", key=key)[0] == 200
    assert svc.request("GET", f"/webhooks/{hook['id']}", key=key)[0] == 200
    assert svc.request("PATCH", f"/webhooks/{hook['id']}", key=key, body={"serverId": None})[0] == 200
    assert svc.request("POST", "/events", key=skey,
                       body={"event": "server.started", "serverId": server})[0] == 202
    [delivery] = svc.deliveries(key, hook["id"])
    assert svc.request("GET", f"/webhooks/{hook['id']}/deliveries/{delivery['id']}", key=key)[0] == 200
    # (Manual sends are checked by test_manual_sends.py and the fuzzer, against a fake Discord.)
    assert svc.request("DELETE", f"/webhooks/{hook['id']}", key=key)[0] == 200
    assert svc.request("DELETE", f"/servers/{server}", key=skey)[0] == 200
    # The errors.
    assert svc.request("GET", "/webhooks", key=skey)[0] == 403
    assert svc.request("POST", "/webhooks", key=key, raw="{", headers={"Content-Type": "application/json"})[0] == 400
    assert svc.request("POST", "/webhooks", key=key, raw="{}", headers={"Content-Type": "text/plain"})[0] == 415
    assert svc.request("POST", "/events", key=skey, body={"event": "nope", "serverId": "x"})[0] == 400
    assert svc.request("GET", "/webhooks/x/deliveries?limit=0", key=key)[0] == 404


def test_an_oversized_body_gets_nginx_json_413(svc):
    _, key = svc.new_user()
    status, _, body = svc.request("POST", "/webhooks", key=key, raw="x" * (70 * 1024),
                                  headers={"Content-Type": "application/json"})
    assert (status, body) == (413, {"error": "Request body too large"})


def test_head_requests_are_checked_without_a_body(svc):
    conn = http.client.HTTPConnection("127.0.0.1", svc.port, timeout=10)
    try:
        conn.request("HEAD", "/webhooks")
        resp = conn.getresponse()
        resp.read()
    finally:
        conn.close()
    contract().check("HEAD", "/webhooks", resp.status, resp.headers, b"")
