"""What is particular to running under mod_fcgid (apache/stellar-webhooks-fcgid.conf, README "Other
front ends"): Apache starts `serve` on the first request, keeps one master for the class however
many requests come at once (they queue for it), and serve's log is Apache's error log. The API
checks every front end shares are in test_front_ends.py."""

import pwd
import threading
import time

import pytest

from front_ends import AS_ROOT, SERVER_USER, ApacheFcgid
from conftest import _proc_stat, argv, fake_discord_config, wait_until
from delivery_setup import new_discord_id
from fake_discord import FakeDiscord

# How long the fake Discord holds the test send, during which the service has a request in hand.
HELD_SEND_SECONDS = 3


@pytest.fixture
def fake_discord():
    with FakeDiscord() as fake:
        yield fake


@pytest.fixture
def front(fake_discord):
    ApacheFcgid.require_installed()
    service = ApacheFcgid(config=fake_discord_config(fake_discord))
    try:
        yield service.start()
    finally:
        print(service.logs())  # pytest shows it only when the test failed
        service.cleanup()


def owner_name(pid):
    with open(f"/proc/{pid}/status") as f:
        uid = next(int(line.split()[1]) for line in f if line.startswith("Uid:"))
    return pwd.getpwuid(uid).pw_name


def test_apache_starts_serve_on_the_first_request_and_keeps_one_master(front, fake_discord):
    owner, key = front.new_user()
    assert front.masters() == [], "serve runs before any request asked for it"

    status, headers, _ = front.request("GET", "/webhooks")
    assert status == 401 and headers["WWW-Authenticate"] == "Bearer"
    [master] = front.masters()
    assert "apache2" in argv(int(_proc_stat(master)[1]))[0]  # [1]: the parent
    if AS_ROOT:
        assert owner_name(master) == SERVER_USER
    log = (front.run_dir / front.log_name).read_text()
    assert f"pid={master} workers=2 [StellarServer] master started" in log

    # A test send Discord holds keeps a request in hand; a request meanwhile waits for the one
    # master rather than starting a second.
    discord_id = new_discord_id()
    webhook = front.create_webhook(key, url=fake_discord.url(discord_id))
    fake_discord.set_fault(discord_id, ("slow", HELD_SEND_SECONDS))
    finished = {}

    def send_a_test_message():
        status, _, body = front.request("POST", f"/webhooks/{webhook['id']}/test", key=key)
        finished["send"] = (time.monotonic(), status, body)

    sender = threading.Thread(target=send_a_test_message)
    sender.start()
    # The send's delivery on disk: a worker has the request in hand.
    wait_until(lambda: front.stored_deliveries(owner, webhook["id"]), 10, what="the test send")
    status, _, listed = front.request("GET", "/webhooks", key=key)
    finished["list"] = time.monotonic()
    sender.join(30)
    assert status == 200 and [w["id"] for w in listed] == [webhook["id"]]
    send_done, send_status, send_body = finished["send"]
    assert send_status == 200 and send_body["success"] is True, send_body
    assert finished["list"] >= send_done, "the list was answered while the test send was in hand"
    assert front.masters() == [master]
