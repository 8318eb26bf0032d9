"""The delivery helper as a process (docs/architecture.md: "Processes", "A delivery"): killed
mid-send or with a full queue it loses nothing (a test send waiting on it gets its answer from
the next one), a reload replaces it after its sends, and retries survive a restart."""

import json
import os
import signal
import socket
import stat
import threading
import time

from conftest import fake_discord_config, unique_id, wait_until
from delivery_setup import new_discord_id, embed_field


# -- a killed helper loses nothing ----------------------------------------------------------------

def wait_for_new_helper(svc, old, timeout=15):
    def replaced():
        pids = svc.helper_pids()
        return pids if pids and not pids & set(old) else None
    return wait_until(replaced, timeout, what=f"a helper other than {sorted(old)}")


def slow_send_in_flight(make_service, discord, seconds):
    """A service whose helper is in the middle of a send the fake answers after `seconds`:
    (svc, user key, server id, webhook, Discord id, helper pid)."""
    svc = make_service(config=fake_discord_config(discord))
    owner, key = svc.new_user()
    server_id = svc.new_server(owner)
    wid = new_discord_id()
    w = svc.create_webhook(key, url=discord.url(wid))
    [helper] = wait_until(svc.helper_pids, 10, what="the delivery helper")
    discord.set_fault(wid, ("slow", seconds))
    svc.cli("emit", "server.started", "--server", server_id)
    wait_until(lambda: discord.connections >= 1, 10, what="the send to start")
    return svc, key, server_id, w, wid, helper


def test_helper_killed_mid_send_sends_again_after_restart(make_service, discord):
    svc, key, _, w, wid, helper = slow_send_in_flight(make_service, discord, 3)
    time.sleep(0.3)  # the request is now in the fake's hands, its answer 3 s away
    assert discord.received(wid) == [], "the slow answer came too early"
    os.kill(helper, signal.SIGKILL)
    wait_for_new_helper(svc, {helper})

    [d] = svc.wait_for_deliveries(key, w["id"], 1, timeout=20)
    assert d["status"] == "delivered" and d["statusCode"] == 200, d
    got = discord.wait_for(1, wid)
    assert any(r.status == 200 for r in got)
    assert all(r.body == got[0].body for r in got), "every copy is the same message"
    assert svc.serve.poll() is None
    assert "delivery helper died, restarting it" in svc.serve_log.read_text()


def test_a_test_send_waits_through_a_helper_restart(make_service, discord):
    """The worker answering POST /test keeps waiting when the helper dies under it: the new
    helper sends the queued test, and the answer is its result."""
    svc = make_service(config=fake_discord_config(discord))
    owner, key = svc.new_user()
    wid = new_discord_id()
    w = svc.create_webhook(key, url=discord.url(wid))
    [helper] = wait_until(svc.helper_pids, 10, what="the delivery helper")
    discord.set_fault(wid, ("slow", 3))
    answers = []
    sender = threading.Thread(target=lambda: answers.append(
        svc.request("POST", f"/webhooks/{w['id']}/test", key=key, timeout=30)))
    sender.start()
    try:
        wait_until(lambda: discord.connections >= 1, 10, what="the test send to start")
        time.sleep(0.3)
        os.kill(helper, signal.SIGKILL)
        wait_for_new_helper(svc, {helper})
    finally:
        sender.join(30)
    [(status, _, body)] = answers
    assert (status, body["success"], body["statusCode"]) == (200, True, 200), body
    [d] = svc.deliveries(key, w["id"])
    assert (d["id"], d["event"], d["status"]) == (body["deliveryId"], "webhook.test", "delivered")


def test_sighup_replaces_the_helper_after_its_sends_and_applies_the_new_config(make_service, discord):
    """A reload starts a new helper, which takes over only when the old one has finished the send
    in hand (one helper per data_dir), and sends with the new configuration."""
    svc, key, server_id, w, wid, old = slow_send_in_flight(make_service, discord, 1.5)

    svc.write_config(discord_footer="Reloaded footer")
    os.kill(svc.master_pid, signal.SIGHUP)
    new = wait_for_new_helper(svc, {old})
    [first] = svc.wait_for_deliveries(key, w["id"], 1, status="delivered")
    wait_until(lambda: old not in svc.helper_pids(), 10, what="the old helper to leave")
    assert svc.helper_pids() == new and len(new) == 1
    assert first["attempts"] == 1, "the send in hand finished once, not cut off and resent"

    svc.cli("emit", "server.started", "--server", server_id)
    got = discord.wait_for(2, wid)
    assert got[-1].body["embeds"][0]["footer"] == {"text": "Reloaded footer"}
    assert got[0].body["embeds"][0]["footer"] == {"text": "StellarStack"}
    assert [r.status for r in got] == [200, 200]


def test_helper_killed_with_a_full_queue_loses_nothing(make_service, discord):
    svc = make_service(config=fake_discord_config(discord, global_rate_limit=10))
    owner, key = svc.new_user()
    server_id = svc.new_server(owner)
    service_key = svc.service_key(unique_id("panel"))
    hooks = {}
    for _ in range(10):
        wid = new_discord_id()
        hooks[wid] = svc.create_webhook(key, url=discord.url(wid))
    [helper] = wait_until(svc.helper_pids, 10, what="the delivery helper")

    for n in range(5):
        status, _, answer = svc.post_event(service_key, "server.started", server_id,
                                           data={"n": n})
        assert (status, answer["deliveries"]) == (202, 10), answer
    discord.wait_for(3)  # sending has begun; at 10/s most of the 50 are still queued
    os.kill(helper, signal.SIGKILL)
    assert len(discord.received()) < 40, "the queue drained before the kill: not a useful test"
    wait_for_new_helper(svc, {helper})

    for wid, w in hooks.items():
        found = svc.wait_for_deliveries(key, w["id"], 5, timeout=40)
        assert len(found) == 5
        assert {d["status"] for d in found} == {"delivered"}, found
        assert sorted(d["payload"]["data"]["n"] for d in found) == [0, 1, 2, 3, 4]
        sent = {embed_field(r.body, "N") for r in discord.received(wid) if r.status == 200}
        assert sent >= {"0", "1", "2", "3", "4"}, (wid, sent)


# -- retries survive a restart of the whole service -----------------------------------------------

def test_pending_deliveries_are_sent_after_a_restart(make_service, discord):
    svc = make_service(config=fake_discord_config(discord, retry_schedule="2,2,2,2,2"))
    owner, key = svc.new_user()
    server_id = svc.new_server(owner)
    wid = new_discord_id()
    w = svc.create_webhook(key, url=discord.url(wid))
    discord.set_always(wid, ("status", 500))
    for n in range(3):
        svc.cli("emit", "server.started", "--server", server_id, "--data", json.dumps({"n": n}))
    discord.wait_for(3, wid)  # each has failed once
    svc.stop()

    on_disk = svc.stored_deliveries(owner, w["id"])
    assert len(on_disk) == 3 and {d["status"] for d in on_disk} == {"pending"}, on_disk

    discord.set_always(wid, None)
    restarted = time.monotonic()
    svc.start()
    found = svc.wait_for_deliveries(key, w["id"], 3, timeout=20)
    assert {d["status"] for d in found} == {"delivered"}, found
    assert all(d["attempts"] >= 2 for d in found), found
    after = [r for r in discord.received(wid) if r.at >= restarted and r.status == 200]
    assert sorted(embed_field(r.body, "N") for r in after) == ["0", "1", "2"]


# -- the helper's socket --------------------------------------------------------------------------

def test_helper_socket_is_private_and_hangs_up_on_silent_or_odd_clients(make_service):
    svc = make_service()
    path = svc.data_dir / "deliver.sock"
    wait_until(path.exists, 10, what="the helper's socket")
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    silent = socket.socket(socket.AF_UNIX)
    silent.connect(str(path))
    odd = socket.socket(socket.AF_UNIX)
    odd.connect(str(path))
    odd.sendall(b"send ../../etc/passwd\n")
    odd.settimeout(5)
    assert odd.recv(16) == b"", "a line that is not a command is hung up on at once"
    silent.settimeout(10)
    started = time.monotonic()
    assert silent.recv(16) == b"", "a client that never sends a line is hung up on"
    assert 3 <= time.monotonic() - started <= 8
    assert svc.helper_pids(), "the helper is still running"
