"""Where the delivery helper may send, and how (docs/architecture.md: "A request", "A delivery",
"Processes", "Discord"): webhook URL rules for literal addresses, the connect-time
private-address check after DNS, verified TLS against a throwaway CA, and logs that never carry a
Discord token or an API key.

URL cases that test_webhooks.py already covers (http://, another host, a host suffix, user:pw@,
a fragment, ?wait=true, id and token shapes) are not repeated here."""

import itertools
import re
import secrets
import time

import pytest

import throwaway_tls
from conftest import Service, detail_fields, fake_discord_config, unique_id, wait_until
from fake_discord import FakeDiscord

_ids = itertools.count(1)


def discord_id():
    """A fresh 18-digit Discord webhook id."""
    return str(223456789012345678 + next(_ids) * 1000 + secrets.randbelow(1000))


def secret_token():
    """A token no log line could contain by chance."""
    return "LeakCheck_" + secrets.token_hex(12)


def delivery(svc, key, webhook_id, delivery_id):
    status, _, body = svc.request("GET", f"/webhooks/{webhook_id}/deliveries/{delivery_id}",
                                  key=key)
    assert status == 200, (status, body)
    return body


def only_delivery(svc, key, webhook_id, timeout=15, finished=True):
    """The webhook's single delivery, once it is finished (or has been attempted at least once)."""
    def ready():
        found = svc.deliveries(key, webhook_id)
        if len(found) != 1:
            return None
        d = found[0]
        if finished and d["status"] == "pending":
            return None
        if not finished and d["attempts"] < 1:
            return None
        return d
    return wait_until(ready, timeout, interval=0.1, what=f"the delivery of {webhook_id}")


def all_logs(svc):
    """Every log file of the run folder (serve, nginx error and access logs)."""
    return "\n".join(p.read_text(errors="replace") for p in sorted(svc.run_dir.glob("*.log")))


# -- URL rules at the API: literal addresses --------------------------------------------------

# Each is in discord_hosts, so only the private-address rule can refuse it.
PRIVATE_HOSTS = [
    "127.0.0.1",
    "2130706433",            # 127.0.0.1 as one decimal number
    "0x7f000001",            # ... in hex
    "0177.0.0.1",            # ... octal first part
    "127.1",                 # ... short form
    "0",                     # 0.0.0.0 as a number
    "0.0.0.0",
    "10.0.0.1",
    "172.16.0.1",
    "192.168.1.1",
    "169.254.169.254",       # cloud metadata
    "0xa9fea9fe",            # ... in hex
    "100.64.0.1",            # CGNAT
    "224.0.0.1",             # multicast
    "[::1]",
    "[::]",
    "[::ffff:127.0.0.1]",    # IPv4-mapped
    "[::ffff:7f00:1]",       # ... written in hex
    "[::ffff:a9fe:a9fe]",    # mapped metadata address
    "[::127.0.0.1]",         # IPv4-compatible
    "[64:ff9b::7f00:1]",     # NAT64 of 127.0.0.1
    "[64:ff9b::a00:1]",      # NAT64 of 10.0.0.1
    "[2002:7f00:1::1]",      # 6to4 of 127.0.0.1
    "[fe80::1]",             # link-local
    "[fc00::1]",             # unique local
    "10.0.0.1:8443",
    "[::1]:8443",
]
PUBLIC_HOSTS = ["8.8.8.8", "[2606:4700:4700::1111]"]


def literal_url(host, webhook="123456789012345678"):
    return f"https://{host}/api/webhooks/{webhook}/tok"


@pytest.fixture(scope="module")
def literal_svc():
    """A service whose discord_hosts lists every tricky literal, insecure targets off."""
    service = Service(config={"discord_hosts": ",".join(["discord.com"] + PRIVATE_HOSTS
                                                       + PUBLIC_HOSTS)})
    try:
        yield service.start()
    finally:
        service.cleanup()


@pytest.fixture(scope="module")
def literal_key(literal_svc):
    return literal_svc.new_user()[1]


def post_url(svc, key, url):
    return svc.request("POST", "/webhooks", key=key,
                       body={"url": url, "events": ["server.started"]})


@pytest.mark.parametrize("url", [literal_url(h) for h in PRIVATE_HOSTS] + [
    "https://0X7F000001/api/webhooks/123456789012345678/tok",      # upper-case hex
    "https://127.0.0.1:443/api/webhooks/123456789012345678/tok",   # the default port spelled out
    "https://[::FFFF:127.0.0.1]/api/webhooks/123456789012345678/tok",
])
def test_private_literal_hosts_are_refused_even_when_listed(literal_svc, literal_key, url):
    status, _, answer = post_url(literal_svc, literal_key, url)
    assert status == 400, (url, answer)
    assert detail_fields(answer) == {"url"}, answer


def test_listed_public_literals_and_names_are_accepted(literal_svc, literal_key):
    """The control: with the same configuration, a public literal and a name pass, so the
    refusals above come from the private-address rule, not from the host list."""
    for url in [literal_url(h) for h in PUBLIC_HOSTS] + [literal_url("discord.com")]:
        status, _, answer = post_url(literal_svc, literal_key, url)
        assert status == 201, (url, answer)
        assert answer["url"] == url


def test_private_literals_are_accepted_with_allow_insecure_targets(make_service):
    """The other control: the very same URLs pass once insecure targets are allowed."""
    svc = make_service(config={"allow_insecure_targets": "true",
                               "discord_hosts": ",".join(PRIVATE_HOSTS)})
    _, key = svc.new_user()
    for host in PRIVATE_HOSTS:
        status, _, answer = post_url(svc, key, literal_url(host))
        assert status == 201, (host, answer)


# -- URL rules at the API: forms not covered by test_webhooks.py -------------------------------

@pytest.mark.parametrize("url", [
    "https://discord.com@evil.example/api/webhooks/123456789012345678/tok",
    "https://discord.com:443@evil.example/api/webhooks/123456789012345678/tok",
    "https://user@discord.com/api/webhooks/123456789012345678/tok",
    "https://evil.example\\@discord.com/api/webhooks/123456789012345678/tok",
    "https://evil.example#@discord.com/api/webhooks/123456789012345678/tok",
    "https://discord.com:8443/api/webhooks/123456789012345678/tok",    # a port not listed
    "https://127.0.0.1/api/webhooks/123456789012345678/tok",            # not listed at all
    "https://discord.com/api/webhooks/123456789012345678/tok#",
    "https://discord.com/api/webhooks/123456789012345678/tok?thread_id=123#frag",
    "https://discord.com/api/webhooks/123456789012345678/tok?foo=bar",
    "https://discord.com/api/webhooks/123456789012345678/tok?thread_id=123&wait=false",
    "https://discord.com/api/webhooks/123456789012345678/tok?wait=true&thread_id=123",
    "https://discord.com/api/webhooks/123456789012345678/tok?thread_id=abc",
    "https://discord.com/api/webhooks/123456789012345678/tok?thread_id=",
    "https://discord.com/api/../api/webhooks/123456789012345678/tok",
    "https://discord.com/api/vten/webhooks/123456789012345678/tok",
    "https://discord.com/api/webhooks/123456789012345678/tok%2F..",
    "https://discord.com/api/webhooks/123456789012345678/tok ",
])
def test_url_tricks_are_refused(svc, url):
    _, key = svc.new_user()
    status, _, answer = post_url(svc, key, url)
    assert status == 400, (url, answer)
    assert detail_fields(answer) == {"url"}, answer


@pytest.mark.parametrize("url", [
    "https://discord.com/api/webhooks/123456789012345678/tok",
    "https://discordapp.com/api/v9/webhooks/123456789012345678/tok?thread_id=123",
])
def test_plain_discord_urls_are_accepted(svc, url):
    _, key = svc.new_user()
    status, _, answer = post_url(svc, key, url)
    assert status == 201, answer
    assert answer["url"] == url


# -- the connect-time check, after DNS ---------------------------------------------------------

LOOPBACK_RE = re.compile(r"127\.0\.0\.1|::1\b")


def test_name_resolving_to_loopback_is_refused_at_connect_time(make_service, discord):
    """`localhost` is a name, so the API accepts it; the helper must still refuse the loopback
    address it resolves to, before any TCP connection (not by a TLS failure)."""
    svc = make_service(config={"discord_hosts": f"localhost:{discord.port}",
                               "retry_schedule": "1"})
    owner, key = svc.new_user()
    server_id = svc.new_server(owner)
    wid, token = discord_id(), secret_token()
    url = discord.url(wid, token, scheme="https", host="localhost")
    w = svc.create_webhook(key, url=url)
    svc.cli("emit", "server.started", "--server", server_id)

    d = only_delivery(svc, key, w["id"])
    assert d["status"] == "failed", d
    assert d["error"].startswith("Refused to connect to"), d
    assert LOOPBACK_RE.search(d["error"]), d
    # Refused before any request: `attempts` counts HTTP requests, so none.
    assert d["attempts"] == 0 and d["statusCode"] is None and d["deliveredAt"] is None, d
    assert d["nextAttemptAt"] is None, d
    # Not retried: well past the 1 s retry it would have had, nothing changes.
    time.sleep(2)
    assert delivery(svc, key, w["id"], d["id"]) == d
    assert discord.connections == 0, "the helper connected to a loopback address"
    assert discord.received() == []
    assert token not in all_logs(svc)


def test_private_literal_saved_under_insecure_config_is_not_sent_once_secure(make_service, discord):
    """A webhook registered while insecure targets were allowed must not be sent to after the
    configuration turns secure: the helper checks the URL again before each send."""
    svc = make_service(config=fake_discord_config(discord))
    owner, key = svc.new_user()
    server_id = svc.new_server(owner)
    wid = discord_id()
    # https, so only the private address (not the scheme) stands in the way once secure.
    w = svc.create_webhook(key, url=discord.url(wid, scheme="https"))
    svc.stop()
    svc.write_config(allow_insecure_targets="false")
    svc.start()
    svc.cli("emit", "server.started", "--server", server_id)
    d = only_delivery(svc, key, w["id"])
    assert d["status"] == "failed", d
    assert d["statusCode"] is None and d["deliveredAt"] is None, d
    assert isinstance(d["error"], str) and d["error"], d
    assert discord.connections == 0
    assert discord.received() == []


# -- TLS -----------------------------------------------------------------------------------------

def tls_fake(cert, key):
    return FakeDiscord(tls_context=throwaway_tls.server_context(cert, key)).start()


def tls_service(make_service, fake, ca_file, **more):
    return make_service(config={"allow_insecure_targets": "true",
                                "discord_hosts": f"127.0.0.1:{fake.port},localhost:{fake.port}",
                                "ca_file": str(ca_file), **more})


def test_https_delivery_verified_with_the_configured_ca(make_service, tmp_path):
    ca_cert, ca_key = throwaway_tls.make_ca(tmp_path / "ca")
    cert, key_file = throwaway_tls.make_server_cert(tmp_path / "server", ca_cert, ca_key,
                                                    hosts=("localhost", "127.0.0.1"))
    fake = tls_fake(cert, key_file)
    try:
        svc = tls_service(make_service, fake, ca_cert)
        owner, key = svc.new_user()
        server_id = svc.new_server(owner)
        hooks = {}
        for host in ("127.0.0.1", "localhost"):
            wid = discord_id()
            url = fake.url(wid, "tok_tls", host=host)
            assert url.startswith(f"https://{host}:")
            hooks[wid] = svc.create_webhook(key, url=url)
        svc.cli("emit", "server.started", "--server", server_id)
        for wid, w in hooks.items():
            [got] = fake.wait_for(1, wid)
            assert got.status == 200 and got.path == f"/api/v10/webhooks/{wid}/tok_tls"
            assert got.query.get("wait") == "true"
            assert got.body["embeds"][0]["title"] == "🔔 Server Started"
            d = only_delivery(svc, key, w["id"])
            assert (d["status"], d["statusCode"], d["attempts"]) == ("delivered", 200, 1), d
        assert fake.tls_failures == 0
    finally:
        fake.stop()


def untrusted_case(make_service, fake, ca_cert):
    svc = tls_service(make_service, fake, ca_cert, retry_schedule="60")
    owner, key = svc.new_user()
    server_id = svc.new_server(owner)
    wid = discord_id()
    w = svc.create_webhook(key, url=fake.url(wid, "tok_tls"))
    svc.cli("emit", "server.started", "--server", server_id)
    d = only_delivery(svc, key, w["id"], finished=False)
    assert d["status"] != "delivered", d
    assert d["statusCode"] is None and d["deliveredAt"] is None, d
    assert d["attempts"] == 1, d
    # A transport failure: retried later per the schedule (60 s here), so still pending.
    assert d["status"] == "pending" and d["nextAttemptAt"], d
    # The user's own test send fails the same way and says why.
    status, _, answer = svc.request("POST", f"/webhooks/{w['id']}/test", key=key)
    assert status == 500, answer
    assert answer["success"] is False and answer["statusCode"] is None, answer
    assert fake.received() == [], "nothing may be sent over an unverified connection"
    return d, answer


def test_untrusted_certificate_fails_the_delivery(make_service, tmp_path):
    ca_cert, _ = throwaway_tls.make_ca(tmp_path / "ca")
    bad_cert, bad_key = throwaway_tls.make_self_signed(tmp_path / "bad")
    fake = tls_fake(bad_cert, bad_key)
    try:
        d, answer = untrusted_case(make_service, fake, ca_cert)
        for error in (d["error"], answer["error"]):
            assert re.search(r"certificate|SSL|TLS", error, re.I), error
        wait_until(lambda: fake.tls_failures >= 2, 5, what="both handshakes to fail at the fake")
    finally:
        fake.stop()


def test_certificate_for_another_name_fails_the_delivery(make_service, tmp_path):
    """Signed by the trusted CA, but for another host: the name is checked too."""
    ca_cert, ca_key = throwaway_tls.make_ca(tmp_path / "ca")
    cert, key_file = throwaway_tls.make_server_cert(tmp_path / "other", ca_cert, ca_key,
                                                    hosts=("other.example",))
    fake = tls_fake(cert, key_file)
    try:
        d, answer = untrusted_case(make_service, fake, ca_cert)
        for error in (d["error"], answer["error"]):
            assert re.search(r"certificate|SSL|TLS", error, re.I), error
    finally:
        fake.stop()


# -- logs ------------------------------------------------------------------------------------------

def test_logs_never_carry_tokens_or_keys(make_service, discord):
    svc = make_service(config=fake_discord_config(discord, retry_schedule="1", log_level="debug"))
    owner, key = svc.new_user()
    service_key = svc.service_key(unique_id("panel"))
    server_id = svc.new_server(owner)
    faults = {"ok": None, "gone": "404", "forbidden": "403", "broken": ("status", 500),
              "dropped": "drop", "redirect": ("redirect", "https://evil.example/")}
    hooks = {}
    for name, fault in faults.items():
        wid, token = discord_id(), secret_token()
        if fault is not None:
            discord.set_always(wid, fault)
        w = svc.create_webhook(key, url=discord.url(wid, token), events=["server.started"])
        hooks[name] = (wid, token, w)

    assert svc.post_event(service_key, "server.started", server_id)[0] == 202
    for name, (wid, token, w) in hooks.items():
        only_delivery(svc, key, w["id"])
    # Manual sends too: a test and a retry, one failing, one succeeding.
    wid, token, w = hooks["forbidden"]
    assert svc.request("POST", f"/webhooks/{w['id']}/test", key=key)[0] == 500
    discord.set_always(wid, None)
    [d] = [d for d in svc.deliveries(key, w["id"]) if d["event"] == "server.started"]
    assert svc.request("POST", f"/webhooks/{w['id']}/deliveries/{d['id']}/retry", key=key)[0] == 200

    outcomes = {name: only_status(svc, key, w["id"]) for name, (_, _, w) in hooks.items()}
    assert outcomes["ok"] == "delivered" and outcomes["gone"] == "failed", outcomes
    logs = all_logs(svc)
    for name, (wid, token, _) in hooks.items():
        assert token not in logs, f"the token of webhook {name} is in the logs"
        # The sends were logged (debug), with the URL redacted: the check above means something.
        assert f"/webhooks/{wid}/****" in logs, f"no redacted URL of webhook {name} was logged"
    for secret in (key, service_key, key.split("_", 2)[2], service_key.split("_", 2)[2]):
        assert secret not in logs, "an API key is in the logs"


def only_status(svc, key, webhook_id):
    found = [d for d in svc.deliveries(key, webhook_id) if d["event"] == "server.started"
             and d["retryOf"] is None]
    assert len(found) == 1, found
    return found[0]["status"]
