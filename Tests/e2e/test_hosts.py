"""More than one host (README: "More than one host", docs/architecture.md: "Storage"): the FastCGI
listener on TCP and who may connect to it, the secret kept outside data_dir, and two hosts
sharing one PostgreSQL database behind one nginx."""

import json
import os
import signal
import subprocess
import threading
import time
from concurrent.futures import ThreadPoolExecutor

import pytest

from conftest import BIN, fake_discord_config, free_port, postgres, wait_until
from delivery_setup import embed_field, new_discord_id
from test_processes import check_config, named_keys, write_conf


def test_a_tcp_listener_serves_through_nginx(make_service):
    svc = make_service({"socket": f"127.0.0.1:{free_port()}"})
    _, key = svc.new_user()
    made = svc.create_webhook(key)
    status, _, body = svc.request("GET", f"/webhooks/{made['id']}", key=key)
    assert status == 200 and body["id"] == made["id"], (status, body)
    assert not (svc.run_dir / "fcgi.sock").exists()


def test_only_allowed_clients_may_connect_over_tcp(make_service):
    # nginx connects from 127.0.0.1; with only another address allowed, libfcgi closes its
    # connections unanswered and nginx answers 502: nothing reaches a handler.
    svc = make_service({"socket": f"*:{free_port()}", "allowed_clients": "127.0.0.9"}, start=False)
    svc.start(answering=False)
    status, _, _ = svc.request("GET", "/webhooks")
    assert status == 502, status
    svc.write_config(allowed_clients="10.1.2.3, 127.0.0.1")
    svc.restart()
    assert svc.request("GET", "/webhooks")[0] == 401


def test_check_config_refuses_a_socket_that_is_neither_a_path_nor_host_port(tmp_path):
    for bad in ["fcgi.sock", "localhost", "host:0", "host:70000", "host:http"]:
        rc, out = check_config(write_conf(tmp_path, f"socket = {bad}\n"))
        assert rc == 1 and "socket" in named_keys(out), (bad, out)
    for good in ["127.0.0.1:9000", "*:9000", ":9000", "node-2.internal:9000"]:
        rc, out = check_config(write_conf(tmp_path, f"socket = {good}\n"))
        assert rc == 0, (good, out)


def test_the_secret_lives_where_secret_file_says(make_service, tmp_path):
    shared = tmp_path / "shared" / "secret.key"
    svc = make_service({"secret_file": shared})
    _, key = svc.new_user()
    assert shared.exists() and shared.stat().st_mode & 0o777 == 0o600
    assert not (svc.data_dir / "secret.key").exists()
    assert len(shared.read_text().strip()) == 64
    assert svc.request("GET", "/webhooks", key=key)[0] == 200


# -- several hosts, one PostgreSQL database (run with STELLAR_E2E_STORE=postgres) -----------------

class Hosts:
    """Two hosts sharing one database and one secret_file, each a `serve` master with its own
    data_dir and nginx; host b listens on TCP. `front` is one nginx with both as its upstream."""

    def __init__(self, make_service, discord, tmp_path, **config):
        database = postgres().new_database()
        shared = {**fake_discord_config(discord, **config),
                  "database_url": postgres().database_url(database),
                  "secret_file": tmp_path / "shared-secret.key"}
        self.a = make_service(shared)
        self.b = make_service({**shared, "socket": f"127.0.0.1:{free_port()}"})
        self.a.database = self.b.database = database  # what psql and edit_stored_webhook read
        self.front = make_service(start=False)
        self.front.upstream_override = [self.a.connect_address, self.b.connect_address]
        self.front.start_nginx_only()

    def kill(self, host):
        """SIGKILL to the master and all its children at once (its process group)."""
        os.killpg(host.serve.pid, signal.SIGKILL)
        host.serve.wait(10)


@pytest.mark.postgres_only
def test_two_hosts_share_keys_and_every_write(make_service, discord, tmp_path):
    hosts = Hosts(make_service, discord, tmp_path)
    a, b = hosts.a, hosts.b
    user, key = b.new_user()                      # made with the CLI on host b
    made = a.create_webhook(key, url=discord.url(new_discord_id()))  # used through host a
    assert b.webhook(key, made["id"])["id"] == made["id"]
    status, _, changed = b.request("PATCH", f"/webhooks/{made['id']}", key=key, body={"enabled": False})
    assert status == 200 and changed["enabled"] is False, changed
    assert a.webhook(key, made["id"])["enabled"] is False
    listed = [hook["id"] for hook in hosts.front.request("GET", "/webhooks", key=key)[2]]
    assert listed == [made["id"]]
    key_id = key.split("_")[1]
    a.cli("keys", "revoke", key_id)
    for host in (a, b, hosts.front):
        assert host.request("GET", "/webhooks", key=key)[0] == 401


@pytest.mark.postgres_only
def test_a_list_kept_by_one_host_follows_every_write_through_the_other(make_service, discord, tmp_path):
    # Host b's workers keep each user's GET /webhooks answer while the database reports its rows
    # unchanged: every kind of write through host a must show in b's very next answers.
    hosts = Hosts(make_service, discord, tmp_path)
    a, b = hosts.a, hosts.b
    user, key = a.new_user()
    server = a.new_server(user, name="Before")
    hook = a.create_webhook(key, url=discord.url(new_discord_id()), serverId=server)

    def listed():
        answers = [b.request("GET", "/webhooks", key=key) for _ in range(6)]  # several reach each worker
        assert all(status == 200 for status, _, _ in answers), answers
        assert all(body == answers[0][2] for _, _, body in answers), answers
        return answers[0][2]

    assert [w["id"] for w in listed()] == [hook["id"]]
    assert a.request("PATCH", f"/webhooks/{hook['id']}", key=key, body={"events": ["backup.created"]})[0] == 200
    assert listed()[0]["events"] == ["backup.created"]
    a.put_server(server, "After", user)
    assert listed()[0]["server"]["name"] == "After"
    skey = a.service_key("panel-list")
    assert a.post_event(skey, "backup.created", server)[0] == 202
    assert listed()[0]["_count"]["deliveries"] == 1
    made = a.create_webhook(key, url=discord.url(new_discord_id()))
    assert {w["id"] for w in listed()} == {hook["id"], made["id"]}
    assert a.request("DELETE", f"/webhooks/{made['id']}", key=key)[0] == 200
    assert [w["id"] for w in listed()] == [hook["id"]]
    a.cli("servers", "remove", server)
    assert listed() == []


@pytest.mark.postgres_only
def test_a_host_with_another_secret_refuses_to_start(make_service, discord, tmp_path):
    hosts = Hosts(make_service, discord, tmp_path)
    for secret_file, says in [(tmp_path / "other.key", "not the secret"), (tmp_path / "missing" / "none.key", "does not exist")]:
        if says == "not the secret":
            secret_file.write_text("ab" * 32 + "\n")
        stranger = make_service({**hosts.a.config, "data_dir": tmp_path / f"d-{says[:3]}",
                                 "socket": tmp_path / f"s-{says[:3]}.sock", "secret_file": secret_file},
                                start=False)
        with open(stranger.serve_log, "ab") as log:
            rc = subprocess.run([str(BIN), "serve", "--config", str(stranger.config_path)], env=stranger.env,
                                stdout=log, stderr=log, timeout=30).returncode
        assert rc != 0 and says in stranger.serve_log.read_text(), stranger.serve_log.read_text()


def emit_all(front, service_key, server_id, events, threads=4):
    """POSTs `events` events (data n = 0, 1, ...) through `front`; the numbers acknowledged."""
    def one(n):
        status, _, body = front.post_event(service_key, "server.started", server_id, data={"n": n})
        return n if status == 202 else None
    with ThreadPoolExecutor(threads) as pool:
        return [n for n in pool.map(one, range(events)) if n is not None]


@pytest.mark.postgres_only
def test_a_thousand_deliveries_across_two_hosts_each_reach_discord_once(make_service, discord, tmp_path):
    hosts = Hosts(make_service, discord, tmp_path, global_rate_limit=400)
    owner, key = hosts.a.new_user()
    server_id = hosts.b.new_server(owner)
    discord_ids = [new_discord_id() for _ in range(100)]
    for wid in discord_ids:
        hosts.front.create_webhook(key, url=discord.url(wid))
    skey = hosts.a.service_key("panel-hosts")
    started = time.monotonic()
    assert emit_all(hosts.front, skey, server_id, 10) == list(range(10))   # 10 x 100 = 1,000
    queued = time.monotonic() - started
    discord.wait_for(1000, timeout=90)
    print(f"1,000 deliveries over two hosts: queued in {queued:.2f} s, all at the fake after "
          f"{time.monotonic() - started:.2f} s")  # a figure for the record (pytest -s)
    time.sleep(2)  # a duplicate would show up now
    sent = [(r.webhook_id, embed_field(r.body, "N")) for r in discord.received() if r.status == 200]
    assert len(sent) == 1000 and len(set(sent)) == 1000, (len(sent), len(set(sent)))
    assert set(sent) == {(wid, str(n)) for wid in discord_ids for n in range(10)}


@pytest.mark.postgres_only
def test_a_host_killed_mid_send_leaves_its_deliveries_to_the_other(make_service, discord, tmp_path):
    hosts = Hosts(make_service, discord, tmp_path, delivery_timeout=3, retry_schedule="1,1,1")
    a, b = hosts.a, hosts.b
    owner, key = a.new_user()
    server_id = a.new_server(owner)
    discord_ids = [new_discord_id() for _ in range(5)]
    for wid in discord_ids:
        a.create_webhook(key, url=discord.url(wid))
        discord.set_always(wid, ("slow", 2.5))    # every send is on the wire for a while
    skey = a.service_key("panel-kill")
    acknowledged = emit_all(a, skey, server_id, 4, threads=1)          # through host a
    assert acknowledged == [0, 1, 2, 3]
    discord.wait_for(1)                            # sends have started
    hosts.kill(a)
    for wid in discord_ids:
        discord.set_always(wid, None)
    # Host a's leases (delivery_timeout + 5 s) run out; host b's helper sends what a held.
    expected = {(wid, str(n)) for wid in discord_ids for n in acknowledged}
    def all_arrived():
        return expected <= {(r.webhook_id, embed_field(r.body, "N")) for r in discord.received() if r.status == 200}
    wait_until(all_arrived, 60, what="every acknowledged delivery at the fake")
    # What host a was sending when it died reached the fake but was never recorded: host b sends
    # it again once a's lease runs out (at least once), and records it.
    hooks = [hook["id"] for hook in b.request("GET", "/webhooks", key=key)[2]]
    def all_recorded():
        return all({d["status"] for d in b.deliveries(key, hook)} == {"delivered"} for hook in hooks)
    wait_until(all_recorded, 60, what="every delivery recorded as delivered through host b")
    assert all(len(b.deliveries(key, hook)) == len(acknowledged) for hook in hooks)


@pytest.mark.postgres_only
def test_postgresql_stopped_and_started_under_load(make_service, discord, tmp_path):
    hosts = Hosts(make_service, discord, tmp_path)
    owner, key = hosts.a.new_user()
    server_id = hosts.a.new_server(owner)
    wid = new_discord_id()
    hosts.a.create_webhook(key, url=discord.url(wid))
    skey = hosts.a.service_key("panel-pg")
    answers, acknowledged, stop = [], [], threading.Event()

    def load():
        n = 0
        while not stop.is_set():
            status, _, body = hosts.front.post_event(skey, "server.started", server_id, data={"n": n})
            answers.append((status, body))
            if status == 202:
                acknowledged.append(n)
            n += 1
            time.sleep(0.05)

    worker = threading.Thread(target=load)
    worker.start()
    try:
        wait_until(lambda: len(acknowledged) >= 5, 20, what="load under way")
        postgres().pg_ctl("stop", "-m", "fast")
        wait_until(lambda: any(status == 503 for status, _ in answers), 20, what="503 while the database is down")
        time.sleep(1)
        down_from = len(answers)
        postgres().pg_ctl("start", "-w")
        wait_until(lambda: any(status == 202 for status, _ in answers[down_from:]), 30, what="202 again, no restart")
    finally:
        stop.set()
        worker.join(30)
        if not pg_is_up():
            postgres().pg_ctl("start", "-w")
    for status, body in answers:
        assert status in (202, 503), (status, body)   # never a 401 or a bare 500
        if status == 503:
            assert body == {"error": "Storage unavailable"}, body
    assert hosts.a.serve.poll() is None and hosts.b.serve.poll() is None
    expected = {str(n) for n in acknowledged}
    def all_arrived():
        return expected <= {embed_field(r.body, "N") for r in discord.received(wid) if r.status == 200}
    wait_until(all_arrived, 60, what="every acknowledged delivery sent")


def pg_is_up():
    return subprocess.run(["psql", postgres().url, "-c", "select 1"], capture_output=True).returncode == 0


@pytest.mark.postgres_only
def test_an_idempotency_key_holds_across_hosts(make_service, discord, tmp_path):
    hosts = Hosts(make_service, discord, tmp_path)
    owner, key = hosts.a.new_user()
    server_id = hosts.a.new_server(owner)
    webhook = hosts.a.create_webhook(key, url=discord.url(new_discord_id()))
    skey = hosts.b.service_key("panel-idem")
    same = {"Idempotency-Key": "retry-from-the-panel"}
    with ThreadPoolExecutor(8) as pool:
        answers = list(pool.map(
            lambda n: (hosts.a if n % 2 else hosts.b).post_event(skey, "server.started", server_id, headers=same),
            range(8)))
    assert {status for status, _, _ in answers} == {202}, answers
    assert len({json.dumps(body, sort_keys=True) for _, _, body in answers}) == 1, answers
    assert hosts.a.delivery_total(key, webhook["id"]) == 1


@pytest.mark.postgres_only
def test_import_moves_a_flat_file_store_into_the_database(make_service, discord, tmp_path):
    files = make_service(fake_discord_config(discord, retry_schedule="1,1"))
    files.config.pop("database_url")                       # this one keeps flat files
    files.write_config()
    files.restart()
    owner, key = files.new_user()
    server_id = files.new_server(owner)
    hooks = [files.create_webhook(key, url=discord.url(new_discord_id())) for _ in range(3)]
    skey = files.service_key("panel-import")
    for n in range(4):
        assert files.post_event(skey, "server.started", server_id, data={"n": n},
                                headers={"Idempotency-Key": f"import-{n}"})[0] == 202
    for hook in hooks:
        files.wait_for_deliveries(key, hook["id"], 4, status="delivered")
    before = {hook["id"]: files.deliveries(key, hook["id"]) for hook in hooks}
    files.stop()

    database = postgres().new_database()
    moved = make_service({**fake_discord_config(discord), "database_url": postgres().database_url(database),
                          "secret_file": files.data_dir / "secret.key"}, start=False)
    out = moved.cli("import", "--data-dir", str(files.data_dir)).stdout
    assert "3 webhooks, 12 deliveries" in out and "2 keys, 1 servers" in out and "4 idempotent answers" in out, out
    again = moved.cli("import", "--data-dir", str(files.data_dir), check=False)
    assert again.returncode != 0 and "already holds" in again.stderr, again
    moved.start()
    for hook in hooks:
        assert moved.deliveries(key, hook["id"]) == before[hook["id"]]
    replay = moved.post_event(skey, "server.started", server_id, data={"n": 0}, headers={"Idempotency-Key": "import-0"})
    assert replay[0] == 202 and moved.delivery_total(key, hooks[0]["id"]) == 4, replay
