"""The delivery helper against a hostile environment: a proxy in its environment, a bad file in
the outbox, a Discord that asks for absurd waits. It keeps delivering, and never crash-loops."""

import json
import os
import socket
import threading
import time
import uuid
from datetime import datetime, timezone

import pytest

from conftest import fake_discord_config, wait_until
from delivery_setup import Setup, parse_iso


class CountingListener:
    """A TCP listener that counts connections and answers nothing: a proxy that must stay unused."""

    def __init__(self):
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(16)
        self.port = self.sock.getsockname()[1]
        self.connections = 0
        self._thread = threading.Thread(target=self._accept, daemon=True)
        self._thread.start()

    def _accept(self):
        while True:
            try:
                conn, _ = self.sock.accept()
            except OSError:
                return
            self.connections += 1
            conn.close()

    def close(self):
        self.sock.close()


def test_a_proxy_from_the_environment_is_never_used(make_service, discord):
    proxy = CountingListener()
    try:
        svc = make_service(config=fake_discord_config(discord), start=False)
        proxy_url = f"http://127.0.0.1:{proxy.port}"
        for name in ("http_proxy", "https_proxy", "HTTPS_PROXY", "ALL_PROXY", "all_proxy"):
            svc.env[name] = proxy_url
        svc.env.pop("no_proxy", None)
        svc.env.pop("NO_PROXY", None)
        svc.start()
        user, key = svc.new_user()
        hook = svc.create_webhook(key, url=discord.url("223456789012345678"))
        status, _, body = svc.request("POST", f"/webhooks/{hook['id']}/test", key=key)
        assert status == 200 and body["success"] is True, (status, body)
        assert len(discord.received("223456789012345678")) == 1
        assert proxy.connections == 0, "the helper went through the proxy"
    finally:
        proxy.close()


@pytest.mark.files_only
def test_an_unreadable_outbox_entry_is_set_aside_and_the_rest_is_delivered(make_service, discord):
    setup = Setup(make_service, discord)
    hook, discord_id = setup.hook()
    outbox = setup.svc.data_dir / "outbox"
    # Sorts before every real entry, so it would be read first.
    bad_name = f"{0:020d}-{uuid.uuid4()}.json"
    (outbox / bad_name).write_bytes(b"{not json")
    # A well-formed entry whose delivery file does not decode.
    bad_delivery = str(uuid.uuid4())
    deliveries = setup.svc.data_dir / "users" / setup.owner / "webhooks" / hook["id"] / "deliveries"
    deliveries.mkdir(mode=0o700, parents=True, exist_ok=True)  # the store makes it at the first delivery
    (deliveries / f"{bad_delivery}.json").write_bytes(b'{"id": 42}')
    second_bad = f"{1:020d}-{bad_delivery}.json"
    (outbox / second_bad).write_text(json.dumps(
        {"deliveryId": bad_delivery, "webhookId": hook["id"], "userId": setup.owner}))

    setup.emit(data={"n": 1})
    [delivered] = setup.finished(hook, 1, status="delivered")
    assert len(discord.wait_for(1, discord_id)) == 1
    rejected = setup.svc.data_dir / "outbox-rejected"
    wait_until(lambda: (rejected / second_bad).exists(), 10, what="the second bad entry set aside")
    assert (rejected / bad_name).read_bytes() == b"{not json", "kept whole for the admin"
    assert sorted(os.listdir(outbox)) == [], "nothing left in the outbox"
    log = setup.svc.serve_log.read_text()
    assert bad_name in log and second_bad in log, "each one is logged"
    assert delivered["attempts"] == 1


def test_absurd_waits_from_discord_are_capped_at_an_hour_and_the_helper_lives_on(make_service,
                                                                                discord):
    setup = Setup(make_service, discord)
    helpers = setup.svc.helper_pids()
    slow_hook, slow_id = setup.hook()
    # retry_after 1e300 in the body, and a Retry-After / X-RateLimit-Reset-After of 300 digits.
    discord.set_fault(slow_id, ("429", 1e300))
    sent_at = datetime.now(timezone.utc)
    setup.emit(data={"n": 1})
    discord.wait_for(1, slow_id)

    def rescheduled():
        [d] = setup.deliveries(slow_hook)
        return d if d["attempts"] == 1 else None
    pending = wait_until(rescheduled, 10, what="the 429 recorded")
    wait = (parse_iso(pending["nextAttemptAt"]) - sent_at).total_seconds()
    assert 3590 <= wait <= 3610, pending
    assert pending["status"] == "pending" and pending["attempts"] == 1

    # Still the same helper, still delivering to everyone else.
    other_hook, other_id = setup.hook()
    setup.emit(data={"n": 2})
    setup.finished(other_hook, 1, status="delivered")
    time.sleep(1)
    assert setup.svc.helper_pids() == helpers, "the helper died"
    assert "Fatal error" not in setup.svc.serve_log.read_text()
