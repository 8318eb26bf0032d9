"""Limits that keep one user from taking the service: one manual send at a time per user, never
every worker held by sends, a cap on webhooks per user; and idempotency keys that leave no lock
file behind."""

import os
import threading

import pytest
from concurrent.futures import ThreadPoolExecutor

from conftest import DISCORD_URL, assert_error, unique_id, wait_until
from delivery_setup import Setup


def test_manual_sends_are_one_per_user_and_never_hold_every_worker(make_service, discord):
    setup = Setup(make_service, discord, workers=3)  # 2 workers may hold sends, 1 stays free
    svc = setup.svc
    alice_hook, alice_discord = setup.hook()
    bob, bob_key = svc.new_user()
    bob_discord = "323456789012345678"
    bob_hook = svc.create_webhook(bob_key, url=discord.url(bob_discord))
    carol, carol_key = svc.new_user()
    carol_hook = svc.create_webhook(carol_key, url=discord.url("423456789012345678"))
    for discord_id in (alice_discord, bob_discord):
        discord.set_fault(discord_id, ("slow", 4))

    answers = {}

    def send(name, key, hook):
        answers[name] = svc.request("POST", f"/webhooks/{hook['id']}/test", key=key)

    alice = threading.Thread(target=send, args=("alice", setup.key, alice_hook))
    bob_send = threading.Thread(target=send, args=("bob", bob_key, bob_hook))
    alice.start()
    bob_send.start()
    try:
        wait_until(lambda: discord.connections >= 2, 10, what="both sends on their way")

        status, headers, body = svc.request("POST", f"/webhooks/{alice_hook['id']}/test",
                                            key=setup.key)
        assert_error(status, body, 429, "A send is already in progress")
        assert headers["Retry-After"] == "1"

        status, headers, body = svc.request("POST", f"/webhooks/{carol_hook['id']}/test",
                                            key=carol_key)
        assert_error(status, body, 429, "Too many sends in progress")
        assert headers["Retry-After"] == "1"

        # The worker kept free answers everyone else at once.
        status, _, listed = svc.request("GET", "/webhooks", key=carol_key, timeout=3)
        assert status == 200 and [w["id"] for w in listed] == [carol_hook["id"]]
        assert alice.is_alive() and bob_send.is_alive(), "answered while both sends were held"
    finally:
        alice.join(30)
        bob_send.join(30)

    for name in ("alice", "bob"):
        status, _, body = answers[name]
        assert status == 200 and body["success"] is True, (name, status, body)
    # Both places are free again.
    status, _, body = svc.request("POST", f"/webhooks/{carol_hook['id']}/test", key=carol_key)
    assert status == 200 and body["success"] is True, (status, body)
    status, _, body = svc.request("POST", f"/webhooks/{alice_hook['id']}/test", key=setup.key)
    assert status == 200 and body["success"] is True, (status, body)


def test_a_user_has_at_most_max_webhooks_per_user(make_service):
    svc = make_service(max_webhooks_per_user=3)
    user, key = svc.new_user()
    made = [svc.create_webhook(key) for _ in range(3)]
    status, _, body = svc.request("POST", "/webhooks", key=key,
                                  body={"url": made[0]["url"], "events": ["server.started"]})
    assert status == 400 and body == {"error": "Webhook limit reached", "limit": 3}, (status, body)
    assert len(svc.request("GET", "/webhooks", key=key)[2]) == 3
    # Per user, and a delete makes room again.
    _, other_key = svc.new_user()
    svc.create_webhook(other_key)
    status, _, _ = svc.request("DELETE", f"/webhooks/{made[0]['id']}", key=key)
    assert status == 200
    svc.create_webhook(key)


def test_concurrent_creates_never_pass_the_limit(make_service):
    # Creates are reserved under the user's lock but built and synced outside it: racing ones on
    # several workers must still stop at the limit, exactly.
    svc = make_service(max_webhooks_per_user=5, workers=3)
    _, key = svc.new_user()
    body = {"url": DISCORD_URL, "events": ["server.started"]}
    with ThreadPoolExecutor(max_workers=12) as pool:
        answers = list(pool.map(lambda _: svc.request("POST", "/webhooks", key=key, body=body), range(24)))
    statuses = sorted(status for status, _, _ in answers)
    assert statuses == [201] * 5 + [400] * 19, statuses
    made = {body["id"] for status, _, body in answers if status == 201}
    assert {hook["id"] for hook in svc.request("GET", "/webhooks", key=key)[2]} == made


def test_the_default_limit_is_100_webhooks(svc):
    _, key = svc.new_user()
    for _ in range(100):
        svc.create_webhook(key)
    status, _, body = svc.request("POST", "/webhooks", key=key,
                                  body={"url": DISCORD_URL, "events": ["server.started"]})
    assert status == 400 and body == {"error": "Webhook limit reached", "limit": 100}, (status, body)


@pytest.mark.files_only
def test_idempotency_keys_leave_no_lock_file_per_key(svc):
    skey = svc.service_key("panel-locks")
    for n in range(30):
        status, _, body = svc.post_event(skey, "server.started", unique_id("no-such-server"),
                                         headers={"Idempotency-Key": f"k-{n}"})
        assert status == 404, (status, body)
    folder = svc.data_dir / "idempotency"
    assert not [name for name in os.listdir(folder) if name != "locks"], os.listdir(folder)
    assert len(os.listdir(folder / "locks")) <= 30
