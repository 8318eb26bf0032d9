"""Provider `http` end to end (issue 18 §2, docs/architecture.md: "Signed HTTPS endpoints"):
webhooks to any HTTPS endpoint, signed as Standard Webhooks, against a local receiver
(fake_receiver.py) that verifies every request with the official `standardwebhooks` library.
Covers the secret's life (creation, reading, rotation, at rest), the body and headers, manual
retries, what each answer does, hostile receivers, and private addresses."""

import base64
import json
import re
import secrets
import time
from datetime import datetime, timedelta, timezone

import pytest
import standardwebhooks
from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes, hmac
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

import throwaway_tls
from conftest import (DISCORD_URL, ISO_RE, STORE, UUID_RE, Service, assert_error, unique_id,
                      wait_until)
from delivery_setup import get_delivery, parse_iso
from fake_receiver import TALLY, FakeReceiver
from metrics import scrape

SECRET_RE = re.compile(r"^whsec_([A-Za-z0-9+/]+={0,2})$")
NO_SECRET = "Webhook has no signing secret: only http webhooks are signed"
DELIVERY_TIMEOUT = 3


def secret_key(secret):
    """The HMAC key bytes of a `whsec_` secret."""
    return base64.b64decode(SECRET_RE.match(secret).group(1))


def assert_secret(secret):
    assert isinstance(secret, str) and SECRET_RE.match(secret), secret
    assert 24 <= len(secret_key(secret)) <= 64, secret


def library_verifies(secret, rec):
    """Whether the official library accepts the request `rec` with `secret` alone."""
    try:
        standardwebhooks.Webhook(secret).verify(rec.body_bytes, rec.headers)
        return True
    except standardwebhooks.WebhookVerificationError:
        return False


def vm_rss_kb(pid):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    raise AssertionError(f"no VmRSS for {pid}")


# -- fixtures ------------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def tls_files(tmp_path_factory):
    folder = tmp_path_factory.mktemp("http-tls")
    ca_cert, ca_key = throwaway_tls.make_ca(folder)
    cert, key = throwaway_tls.make_server_cert(folder, ca_cert, ca_key,
                                               hosts=("localhost", "127.0.0.1"))
    return ca_cert, cert, key


def https_receiver(tls_files):
    _, cert, key = tls_files
    return FakeReceiver(tls_context=throwaway_tls.server_context(cert, key)).start()


@pytest.fixture(scope="module")
def receiver(tls_files):
    fake = https_receiver(tls_files)
    try:
        yield fake
    finally:
        fake.stop()
        print(f"\nstandardwebhooks verified {TALLY['verified']} request(s), "
              f"refused {TALLY['failed']} (whole run so far)")


@pytest.fixture(scope="module")
def hsvc(receiver, tls_files):
    """One service for the module, sending to the receiver over verified TLS (its throwaway CA),
    with short retries and timeout. Tests keep apart by fresh users, servers and paths."""
    service = Service(config={"allow_insecure_targets": "true", "ca_file": str(tls_files[0]),
                              "retry_schedule": "1,1", "delivery_timeout": DELIVERY_TIMEOUT,
                              "log_level": "debug"})
    try:
        yield service.start()
    finally:
        service.cleanup()


class Owner:
    """A fresh user with a server and the service key that emits its events."""

    def __init__(self, svc, receiver):
        self.svc, self.receiver = svc, receiver
        self.skey = svc.service_key(unique_id("panel"))
        self.user, self.key = svc.new_user()
        self.server = svc.new_server(self.user, name="My MC", status="RUNNING")

    def hook(self, path=None, events=("server.started",), expect=True):
        """An http webhook to `path` of the receiver: (webhook as created, its path). The
        receiver then checks every request to the path with the secret."""
        path = path or f"/hooks/{unique_id('h')}"
        status, _, body = self.svc.request(
            "POST", "/webhooks", key=self.key,
            body={"url": self.receiver.url(path), "events": list(events), "provider": "http"})
        assert status == 201, (status, body)
        assert body["provider"] == "http", body
        assert_secret(body.get("secret"))
        if expect:
            self.receiver.expect_secrets(path, [body["secret"]])
        return body, path

    def emit(self, event="server.started", data=None):
        status, _, body = self.svc.post_event(self.skey, event, self.server, data=data)
        assert status == 202, (status, body)
        return body

    def finished(self, w, count=1, timeout=15):
        return self.svc.wait_for_deliveries(self.key, w["id"], count, timeout=timeout)

    def get(self, path):
        return self.svc.request("GET", path, key=self.key)

    def post(self, path, body=None):
        return self.svc.request("POST", path, key=self.key, body=body)


@pytest.fixture
def owner(hsvc, receiver):
    return Owner(hsvc, receiver)


# -- the secret, the body, the headers -------------------------------------------------------------

def test_signed_delivery_verified_by_the_official_library(owner, receiver):
    before = time.time()
    counted_before = scrape(owner.svc)
    w, path = owner.hook()
    secret = w["secret"]
    # The secret is in the 201 only: not in the webhook's later reads.
    assert "secret" not in owner.svc.webhook(owner.key, w["id"])
    status, _, listed = owner.get("/webhooks")
    assert status == 200 and [x["id"] for x in listed] == [w["id"]], listed
    assert "secret" not in listed[0], listed
    status, _, body = owner.get(f"/webhooks/{w['id']}/secret")
    assert status == 200, body
    assert body == {"secret": secret, "previousSecretExpiresAt": None}, body

    owner.emit(data={"players": 3, "server": "ignored: the service owns this name"})
    [rec] = receiver.wait_for(1, path)
    assert rec.verified is True, rec.checks
    # The check means something: another secret does not verify it.
    assert not library_verifies("whsec_" + base64.b64encode(secrets.token_bytes(32)).decode(), rec)

    body = rec.body
    assert set(body) == {"type", "timestamp", "data"}, body
    assert body["type"] == "server.started"
    assert ISO_RE.match(body["timestamp"]), body
    assert body["data"] == {"players": 3, "server": {"id": owner.server, "name": "My MC",
                                                       "status": "RUNNING"}}, body
    assert rec.headers["content-type"].startswith("application/json"), rec.headers
    [d] = owner.finished(w)
    assert (d["status"], d["statusCode"], d["attempts"]) == ("delivered", 200, 1), d
    assert rec.headers["webhook-id"] == d["id"], (rec.headers, d["id"])
    stamp = int(rec.headers["webhook-timestamp"])
    assert int(before) - 1 <= stamp <= int(rec.wall) + 1, (stamp, before, rec.wall)
    assert len(rec.signatures) == 1 and rec.signatures[0].startswith("v1,"), rec.signatures
    assert abs(parse_iso(body["timestamp"]).timestamp() - rec.wall) < 10, body["timestamp"]

    # The test message: type webhook.test, signed and verified too.
    status, _, sent = owner.post(f"/webhooks/{w['id']}/test")
    assert status == 200 and sent["success"] is True and sent["statusCode"] == 200, sent
    [_, test] = receiver.wait_for(2, path)
    assert test.verified is True, test.checks
    assert test.body["type"] == "webhook.test", test.body
    # An unscoped webhook's test names no server.
    assert test.body["data"] == {"message": "Webhook connected"}, test.body
    assert test.headers["webhook-id"] == sent["deliveryId"]
    assert get_delivery(owner.svc, owner.key, w["id"], sent["deliveryId"])["event"] == "webhook.test"

    # Both counted under their provider in the metrics, and nothing under Discord's.
    counted = scrape(owner.svc)
    def moved(provider):
        name, labels = "stellar_webhooks_deliveries_finished_total", {"provider": provider, "outcome": "delivered"}
        return counted.value(name, **labels) - counted_before.value(name, **labels)
    assert (moved("http"), moved("discord")) == (2, 0)
    assert counted.value("stellar_webhooks_send_duration_seconds_count", provider="http") >= 2


def test_provider_is_inferred_or_must_be_said(owner):
    # A Discord URL without a provider: Discord's, unsigned.
    status, _, w = owner.post("/webhooks", {"url": DISCORD_URL, "events": ["server.started"]})
    assert status == 201, w
    assert w["provider"] == "discord" and "secret" not in w, w
    for path in (f"/webhooks/{w['id']}/secret", f"/webhooks/{w['id']}/secret/rotate"):
        status, _, body = owner.svc.request("POST" if path.endswith("rotate") else "GET", path,
                                            key=owner.key)
        assert_error(status, body, 404, NO_SECRET)

    # Any other URL without a provider: 400 saying `"provider": "http"` is needed.
    status, _, body = owner.post("/webhooks", {"url": "https://example.com/hooks/in",
                                               "events": ["server.started"]})
    assert status == 400, body
    [detail] = body["details"]
    assert detail["path"] == ["url"] and '"provider": "http"' in detail["message"], body
    status, _, body = owner.get("/webhooks")
    assert [x["provider"] for x in body] == ["discord"], body

    # Said explicitly, it is an http webhook with a secret; an unknown provider is refused.
    status, _, w = owner.post("/webhooks", {"url": "https://example.com/hooks/in",
                                            "events": ["server.started"], "provider": "http"})
    assert status == 201 and w["provider"] == "http", w
    assert_secret(w["secret"])
    status, _, body = owner.post("/webhooks", {"url": "https://example.com/hooks/in",
                                               "events": ["server.started"], "provider": "ftp"})
    assert status == 400, body
    # Secrets are per webhook and per owner.
    _, other_key = owner.svc.new_user()
    status, _, body = owner.svc.request("GET", f"/webhooks/{w['id']}/secret", key=other_key)
    assert status == 404, body


def test_patch_starts_and_stops_signing(owner, receiver):
    status, _, w = owner.post("/webhooks", {"url": DISCORD_URL, "events": ["server.started"]})
    assert status == 201 and w["provider"] == "discord", w
    path = f"/hooks/{unique_id('p')}"
    # Becoming http: a secret, shown in this answer only.
    status, _, body = owner.svc.request("PATCH", f"/webhooks/{w['id']}", key=owner.key,
                                        body={"url": receiver.url(path), "provider": "http"})
    assert status == 200 and body["provider"] == "http", body
    assert_secret(body.get("secret"))
    secret = body["secret"]
    receiver.expect_secrets(path, [secret])
    status, _, read = owner.get(f"/webhooks/{w['id']}/secret")
    assert status == 200 and read["secret"] == secret, read
    # Another URL alone: still http, the same secret, none shown.
    path2 = f"/hooks/{unique_id('p')}"
    status, _, body = owner.svc.request("PATCH", f"/webhooks/{w['id']}", key=owner.key,
                                        body={"url": receiver.url(path2)})
    assert status == 200 and body["provider"] == "http" and "secret" not in body, body
    receiver.expect_secrets(path2, [secret])
    owner.emit()
    [rec] = receiver.wait_for(1, path2)
    assert rec.verified is True, rec.checks
    assert receiver.received(path) == []
    # A Discord URL alone: http takes any https URL, so the webhook stays http and signed.
    status, _, body = owner.svc.request("PATCH", f"/webhooks/{w['id']}", key=owner.key,
                                        body={"url": DISCORD_URL})
    assert status == 200 and body["provider"] == "http" and "secret" not in body, body
    assert owner.get(f"/webhooks/{w['id']}/secret")[2]["secret"] == secret
    # Discord said: no secret any more.
    status, _, body = owner.svc.request("PATCH", f"/webhooks/{w['id']}", key=owner.key,
                                        body={"provider": "discord"})
    assert status == 200 and body["provider"] == "discord" and "secret" not in body, body
    status, _, body = owner.get(f"/webhooks/{w['id']}/secret")
    assert_error(status, body, 404, NO_SECRET)


# -- manual retry: the same webhook-id ----------------------------------------------------------

def test_manual_retry_keeps_the_webhook_id(owner, receiver):
    w, path = owner.hook()
    receiver.set_fault(path, ("status", 500), ("status", 404))  # retried once, then fails
    owner.emit(data={"n": 1})
    first, second = receiver.wait_for(2, path, timeout=10)
    [d] = owner.finished(w)
    assert (d["status"], d["statusCode"], d["attempts"]) == ("failed", 404, 2), d

    status, _, sent = owner.post(f"/webhooks/{w['id']}/deliveries/{d['id']}/retry")
    assert status == 200 and sent["success"] is True and sent["statusCode"] == 200, sent
    assert UUID_RE.match(sent["deliveryId"]) and sent["deliveryId"] != d["id"], sent
    got = receiver.wait_for(3, path)
    retry = got[2]
    for rec in got:
        assert rec.verified is True, rec.checks
        assert rec.headers["webhook-id"] == d["id"], rec.headers
        # The message is the same: the very same body bytes every time.
        assert rec.body_bytes == first.body_bytes
    stamps = [int(r.headers["webhook-timestamp"]) for r in got]
    # Each attempt is signed with its own time (whole seconds): the time it was sent, though the
    # second came a retry step (1 s ± 20 %) after the first.
    assert got[1].wall - got[0].wall >= 0.7, (got[0].wall, got[1].wall)
    assert stamps == sorted(stamps), stamps
    for rec, stamp in zip(got, stamps):
        assert rec.wall - 1.5 <= stamp <= rec.wall + 0.5, (stamp, rec.wall)
    again = get_delivery(owner.svc, owner.key, w["id"], sent["deliveryId"])
    assert again["retryOf"] == d["id"] and again["status"] == "delivered", again


# -- rotation ------------------------------------------------------------------------------------

def test_rotation_signs_with_both_secrets_for_a_day(owner, receiver):
    w, path = owner.hook()
    old = w["secret"]
    owner.emit()
    [before] = receiver.wait_for(1, path)
    assert before.verified is True and len(before.signatures) == 1

    rotated_at = datetime.now(timezone.utc)
    status, _, body = owner.post(f"/webhooks/{w['id']}/secret/rotate")
    assert status == 200, body
    assert set(body) == {"secret", "previousSecretExpiresAt"}, body
    new = body["secret"]
    assert_secret(new)
    assert new != old
    expires = parse_iso(body["previousSecretExpiresAt"])
    assert abs((expires - rotated_at - timedelta(hours=24)).total_seconds()) < 60, body
    status, _, read = owner.get(f"/webhooks/{w['id']}/secret")
    assert status == 200 and read == body, read

    receiver.expect_secrets(path, [old, new])  # each must verify on its own
    owner.emit()
    [_, after] = receiver.wait_for(2, path)
    assert len(after.signatures) == 2 and all(s.startswith("v1,") for s in after.signatures)
    assert after.checks == {old: None, new: None}, after.checks
    assert library_verifies(old, after) and library_verifies(new, after)

    # A second rotation: the first secret is out, the last two sign.
    status, _, body = owner.post(f"/webhooks/{w['id']}/secret/rotate")
    assert status == 200, body
    newest = body["secret"]
    receiver.expect_secrets(path, [new, newest])
    status, _, sent = owner.post(f"/webhooks/{w['id']}/test")
    assert status == 200 and sent["success"] is True, sent
    [_, _, third] = receiver.wait_for(3, path)
    assert third.verified is True and len(third.signatures) == 2, third.checks
    assert not library_verifies(old, third)
    for d in owner.finished(w, count=3):
        assert d["status"] == "delivered", d


# -- answers ---------------------------------------------------------------------------------------

def test_410_disables_the_webhook(owner, receiver):
    w, path = owner.hook()
    receiver.set_always(path, "410")
    owner.emit()
    [d] = owner.finished(w)
    assert (d["status"], d["statusCode"], d["attempts"]) == ("failed", 410, 1), d
    assert d["nextAttemptAt"] is None, d
    hook = owner.svc.webhook(owner.key, w["id"])
    assert hook["enabled"] is False, hook
    assert isinstance(hook.get("disabledReason"), str) and "410" in hook["disabledReason"], hook
    assert owner.emit()["deliveries"] == 0
    [rec] = receiver.received(path)
    assert rec.verified is True


def test_429_waits_retry_after_without_using_a_retry(owner, receiver):
    # Two retries in the schedule. 429, 500, 500, then 200: only the 500s spend retries, so the
    # fourth request is still sent and delivers. Had the 429 spent one, the second 500 was final.
    w, path = owner.hook()
    receiver.set_fault(path, ("status", 429, 1), ("status", 500), ("status", 500))
    owner.emit()
    got = receiver.wait_for(4, path, timeout=15)
    assert [r.status for r in got] == [429, 500, 500, 200], [r.status for r in got]
    assert got[1].at - got[0].at >= 0.95, got[1].at - got[0].at
    assert all(r.verified is True for r in got)
    assert len({r.headers["webhook-id"] for r in got}) == 1
    [d] = owner.finished(w)
    assert (d["status"], d["statusCode"], d["attempts"]) == ("delivered", 200, 4), d
    assert d["error"] is None, d
    log = [line for line in owner.svc.serve_log.read_text(errors="replace").splitlines()
           if w["id"] in line and "rate limited" in line]
    assert log and all("rate limited by the endpoint" in line for line in log), log


def test_503_retry_after_is_honoured_and_uses_a_retry(owner, receiver):
    once, once_path = owner.hook(events=["server.started"])
    always, always_path = owner.hook(events=["server.stopped"])
    receiver.set_fault(once_path, ("status", 503, 2))
    receiver.set_always(always_path, ("status", 503, 1))
    owner.emit("server.started")
    owner.emit("server.stopped")
    first, second = receiver.wait_for(2, once_path, timeout=10)
    assert (first.status, second.status) == (503, 200)
    # The schedule's step is 1 s (+20 %): 2 s apart is the Retry-After.
    assert second.at - first.at >= 1.95, second.at - first.at
    [d] = owner.finished(once)
    assert (d["status"], d["statusCode"], d["attempts"]) == ("delivered", 200, 2), d
    [d] = owner.finished(always)
    assert (d["status"], d["statusCode"], d["attempts"]) == ("failed", 503, 3), d
    assert "503" in d["error"], d
    assert len(receiver.received(always_path)) == 3


def test_500_follows_the_schedule_redirects_and_404_fail_at_once(owner, receiver):
    broken, broken_path = owner.hook()
    moved, moved_path = owner.hook()
    missing, missing_path = owner.hook()
    elsewhere = f"/elsewhere/{unique_id('x')}"
    receiver.set_always(broken_path, ("status", 500))
    receiver.set_always(moved_path, ("redirect", elsewhere))
    receiver.set_always(missing_path, ("status", 404))
    owner.emit()
    [d302] = owner.finished(moved)
    [d404] = owner.finished(missing)
    for d, code in ((d302, 302), (d404, 404)):
        assert (d["status"], d["statusCode"], d["attempts"]) == ("failed", code, 1), d
        assert d["nextAttemptAt"] is None and d["error"], d
    assert "redirect" in d302["error"], d302
    got = receiver.wait_for(3, broken_path, timeout=10)
    [d] = owner.finished(broken, timeout=10)
    assert (d["status"], d["statusCode"], d["attempts"]) == ("failed", 500, 3), d
    assert "500" in d["error"] and d["nextAttemptAt"] is None and d["deliveredAt"] is None, d
    gaps = [b.at - a.at for a, b in zip(got, got[1:])]
    assert all(0.79 <= g <= 2.0 for g in gaps), gaps
    # The 500's schedule (over 2 s) has run: the 302 and the 404 were never tried again, and the
    # redirect was never followed.
    assert len(receiver.received(moved_path)) == 1
    assert len(receiver.received(missing_path)) == 1
    assert receiver.received(elsewhere) == []
    for w in (broken, moved, missing):
        assert owner.svc.webhook(owner.key, w["id"])["enabled"] is True


def test_dropped_connections_follow_the_schedule(owner, receiver):
    w, path = owner.hook()
    receiver.set_always(path, "drop")
    owner.emit()
    [d] = owner.finished(w, timeout=10)
    assert (d["status"], d["statusCode"], d["attempts"]) == ("failed", None, 3), d
    assert d["error"].startswith("Connection failed"), d
    got = receiver.received(path)
    # libcurl sends a request again, at once and once, when a connection it reused from an
    # earlier transfer closes before any answer: 3 attempts are 3 to 6 requests, each signed
    # alike for the same message.
    assert 3 <= len(got) <= 6 and all(r.status is None for r in got), [r.at for r in got]
    assert all(r.verified is True for r in got)
    assert {r.headers["webhook-id"] for r in got} == {d["id"]}


# -- hostile receivers -----------------------------------------------------------------------------

def test_endless_and_huge_answers_are_cut_short(owner, receiver, hsvc):
    endless, endless_path = owner.hook(events=["server.started"])
    huge, huge_path = owner.hook(events=["server.stopped"])
    receiver.set_always(endless_path, "endless")
    receiver.set_always(huge_path, "huge")
    [helper] = hsvc.helper_pids()
    rss_before = vm_rss_kb(helper)

    for event, w, path in (("server.started", endless, endless_path),
                           ("server.stopped", huge, huge_path)):
        owner.emit(event)
        [rec] = receiver.wait_for(1, path, timeout=10)
        [d] = owner.finished(w, timeout=DELIVERY_TIMEOUT + 5)
        recorded = time.monotonic() - rec.at
        assert (d["status"], d["statusCode"], d["attempts"]) == ("delivered", 200, 1), d
        assert recorded < 2.0, f"{path}: recorded {recorded:.2f} s after the request"
        assert d["response"] and len(d["response"]) <= 5000, len(d["response"] or "")
        assert d["response"].startswith("0123456789abcdef"), d["response"][:40]
        # The client hung up long before the end (the kernel's buffers hold a few MB).
        [rec] = receiver.wait_for(1, path, timeout=5, ended=True)
        assert rec.closed_after < 2.0, rec.closed_after
        assert rec.sent < 32 * 1024 * 1024, rec.sent
        assert rec.verified is True
    grown = vm_rss_kb(helper) - rss_before
    assert helper in hsvc.helper_pids()
    assert grown < 20 * 1024, f"the helper grew by {grown} kB"


def test_dripping_answer_ends_at_the_delivery_timeout(owner, receiver):
    w, path = owner.hook()
    receiver.set_always(path, "drip")
    owner.emit()
    [rec] = receiver.wait_for(1, path)

    def timed_out():
        [d] = owner.svc.deliveries(owner.key, w["id"])
        return d if d["attempts"] >= 1 else None
    d = wait_until(timed_out, DELIVERY_TIMEOUT + 5, interval=0.05, what="the first attempt to end")
    took = time.monotonic() - rec.at
    assert DELIVERY_TIMEOUT - 0.5 <= took <= DELIVERY_TIMEOUT + 1.5, took
    assert d["error"].startswith("Timed out"), d
    assert d["statusCode"] is None and d["status"] == "pending" and d["nextAttemptAt"], d
    [rec] = receiver.wait_for(1, path, timeout=5, ended=True)
    assert rec.sent <= DELIVERY_TIMEOUT + 2, rec.sent


# -- private addresses -----------------------------------------------------------------------------

def test_private_addresses_are_refused(make_service, tls_files):
    fake = https_receiver(tls_files)
    try:
        svc = make_service(config={"ca_file": str(tls_files[0]), "retry_schedule": "1"})
        o = Owner(svc, fake)
        for url in (fake.url("/x"), "https://10.0.0.1/", "https://[::1]/hook",
                    "https://192.168.1.20:8443/hook", f"http://example.com/hook"):
            status, _, body = o.post("/webhooks", {"url": url, "events": ["server.started"],
                                                   "provider": "http"})
            assert status == 400, (url, status, body)
        # A name is accepted; what it resolves to is checked at connect time.
        path = "/by-name"
        status, _, w = o.post("/webhooks", {"url": fake.url(path, host="localhost"),
                                            "events": ["server.started"], "provider": "http"})
        assert status == 201, w
        o.emit()
        [d] = o.finished(w)
        assert d["status"] == "failed", d
        assert re.match(r"Refused to connect to (127\.0\.0\.1|::1).*private", d["error"]), d
        assert d["attempts"] == 0 and d["statusCode"] is None, d
        assert fake.connections == 0 and fake.received() == []
    finally:
        fake.stop()


# -- secrets at rest -------------------------------------------------------------------------------

def stored_text(svc):
    """Everything the store keeps, as text."""
    if svc.database:
        tables = [r[0] for r in svc.psql("SELECT tablename FROM pg_tables WHERE schemaname = 'public'")]
        assert "webhooks" in tables, tables
        return "\n".join("\t".join(row) for t in tables for row in svc.psql(f"SELECT t::text FROM {t} t"))
    return "\n".join(p.read_bytes().decode("latin-1") for p in svc.data_dir.rglob("*") if p.is_file())


def stored_signing(svc, webhook_id):
    if svc.database:
        [[record]] = svc.psql(f"SELECT record::jsonb FROM webhooks WHERE id = '{webhook_id}'")
        return json.loads(record)["signing"]
    # users/{user}/webhooks.jsonl: one line per version of a webhook, the last one in force.
    found = [line["webhook"] for p in svc.data_dir.glob("users/*/webhooks.jsonl")
             for line in map(json.loads, p.read_text().splitlines())
             if line.get("webhook", {}).get("id") == webhook_id]
    assert found, f"no stored record of webhook {webhook_id}"
    return found[-1]["signing"]


def open_sealed(sealed, server_secret, context):
    """SecretBox.open, in Python: AES-256-GCM under HMAC-SHA256(server secret, label)."""
    assert sealed.startswith("v1."), sealed
    blob = base64.b64decode(sealed[3:])
    mac = hmac.HMAC(server_secret, hashes.SHA256())
    mac.update(b"stellar-webhooks sealed secrets v1")
    return AESGCM(mac.finalize()).decrypt(blob[:12], blob[12:], context.encode()).decode()


def test_secrets_are_sealed_at_rest_and_never_logged(owner, receiver, hsvc):
    w, path = owner.hook()
    first = w["secret"]
    status, _, body = owner.post(f"/webhooks/{w['id']}/secret/rotate")
    assert status == 200, body
    current = body["secret"]
    receiver.expect_secrets(path, [first, current])
    owner.emit()
    [rec] = receiver.wait_for(1, path)
    assert rec.verified is True
    owner.finished(w)

    forms = []
    for secret in (first, current):
        raw = secret_key(secret)
        forms += [secret, SECRET_RE.match(secret).group(1), base64.b64encode(raw).decode().rstrip("="),
                  base64.urlsafe_b64encode(raw).decode().rstrip("="), raw.hex()]
    stored = stored_text(hsvc)
    assert w["id"] in stored  # the search covers where the webhook is kept
    logs = "\n".join(p.read_text(errors="replace") for p in sorted(hsvc.run_dir.glob("*.log")))
    assert w["id"] in logs or "/****" in logs, "nothing about the sends was logged"
    for form in forms:
        assert form not in stored, "a signing secret is stored in the clear"
        assert form not in logs, "a signing secret is in the logs"

    # Sealed under the server secret, bound to the webhook: it opens with both, and only so.
    signing = stored_signing(hsvc, w["id"])
    server_secret = bytes.fromhex((hsvc.data_dir / "secret.key").read_text().strip())
    assert open_sealed(signing["current"], server_secret, w["id"]) == current
    assert open_sealed(signing["previous"], server_secret, w["id"]) == first
    with pytest.raises(InvalidTag):
        open_sealed(signing["current"], secrets.token_bytes(32), w["id"])
    other, _ = owner.hook()
    with pytest.raises(InvalidTag):
        open_sealed(signing["current"], server_secret, other["id"])
