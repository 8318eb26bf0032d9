"""The process manager: crashes, recycling, reload, stop; check-config (docs/architecture.md:
"Processes", "Configuration")."""

import fcntl
import json
import os
import pwd
import re
import signal
import socket
import subprocess
import threading
import time

import pytest

from load import Load

from conftest import (BIN, DISCORD_URL, JSON_CONTENT_TYPE, REPO_ROOT, alive, clean_env,
                      descendants, discord_url, run_binary, wait_until)


def wait_for_workers(svc, count, gone=(), timeout=20):
    def ready():
        pids = svc.worker_pids()
        return pids if len(pids) == count and not pids & set(gone) else None
    return wait_until(ready, timeout, what=f"{count} workers, none of {sorted(gone)}")


def test_killed_worker_is_replaced_and_acknowledged_writes_survive(make_service):
    svc = make_service(workers=3, max_webhooks_per_user=100000)  # one user makes them all
    _, key = svc.new_user()
    workers = wait_for_workers(svc, 3)

    def create(thread, n):
        status, _, body = svc.request("POST", "/webhooks", key=key, body={
            "url": discord_url(n % 1000), "events": ["server.started"]})
        return status, body.get("id") if isinstance(body, dict) else None

    with Load(create) as load:
        time.sleep(0.5)
        victim = min(workers)
        os.kill(victim, signal.SIGKILL)
        replaced = wait_for_workers(svc, 3, gone=[victim])
        time.sleep(0.5)

    assert replaced - workers, "a new worker pid should appear"
    assert svc.serve.poll() is None and alive(svc.master_pid)
    assert not load.errors, load.errors[:5]
    statuses = [status for status, _ in load.results]
    acknowledged = {wid for status, wid in load.results if status == 201}
    assert len(acknowledged) > 10, "the load did not get going"
    assert set(statuses) <= {201, 502}, set(statuses)
    assert statuses.count(502) <= 1, "only the request in the killed worker's hands may fail"
    listed = {w["id"] for w in svc.request("GET", "/webhooks", key=key)[2]}
    assert acknowledged <= listed, f"lost: {acknowledged - listed}"
    for _ in range(10):
        assert svc.request("GET", "/webhooks/events", key=key)[0] == 200


def test_worker_recycled_after_max_requests(make_service):
    svc = make_service(workers=2, max_requests=10)
    _, key = svc.new_user()
    first = wait_for_workers(svc, 2)
    with Load(lambda t, n: svc.request("GET", "/webhooks", key=key)[0]) as load:
        wait_until(lambda: len(load.results) + len(load.errors) >= 100, 60, what="100 requests")
    assert not load.errors, load.errors[:5]
    assert set(load.results) == {200}, f"failed requests: {[s for s in load.results if s != 200]}"
    final = wait_for_workers(svc, 2)
    assert not first & final, f"100 requests, max_requests 10: {first} -> {final}"
    assert svc.serve.poll() is None


def test_sighup_replaces_workers_reloads_config_and_keeps_serving(make_service):
    svc = make_service()
    _, key = svc.new_user()
    first = wait_for_workers(svc, 2)
    master = svc.master_pid
    body = {"url": DISCORD_URL, "events": ["server.started"], "pad": "x" * 2000}
    assert svc.request("POST", "/webhooks", key=key, body=body)[0] == 201

    svc.write_config(max_body_bytes=1000)
    with Load(lambda t, n: svc.request("GET", "/webhooks", key=key)[0], threads=2) as load:
        time.sleep(0.3)
        os.kill(master, signal.SIGHUP)
        wait_for_workers(svc, 2, gone=first)
        time.sleep(0.3)

    assert svc.serve.poll() is None and svc.master_pid == master
    assert not load.errors, load.errors[:5]
    assert load.results and set(load.results) == {200}, \
        f"failed requests during reload: {[s for s in load.results if s != 200]}"
    status, headers, answer = svc.request("POST", "/webhooks", key=key, body=body)
    assert status == 413 and headers["Content-Type"] == JSON_CONTENT_TYPE, (status, answer)


def test_sighup_with_a_bad_config_keeps_the_running_one(make_service):
    svc = make_service()
    _, key = svc.new_user()
    first = wait_for_workers(svc, 2)
    svc.write_config(workers="many")
    os.kill(svc.master_pid, signal.SIGHUP)
    wait_until(lambda: "reload refused" in svc.serve_log.read_text(), 10, what="the refusal logged")
    refusal = next(line for line in svc.serve_log.read_text().splitlines() if "reload refused" in line)
    assert "workers: must be" in refusal, refusal
    assert svc.worker_pids() == first
    assert svc.request("GET", "/webhooks", key=key)[0] == 200


def test_workers_that_keep_dying_are_restarted_with_backoff(make_service):
    svc = make_service()
    _, key = svc.new_user()
    workers = wait_for_workers(svc, 2)
    secret = svc.data_dir / "secret.key"
    good = secret.read_bytes()
    secret.write_text("not a secret\n")  # every new worker now fails at start
    for pid in workers:
        os.kill(pid, signal.SIGKILL)
    time.sleep(2)
    log = svc.serve_log.read_text()
    delays = [float(d) for d in re.findall(r"delay=([0-9.]+)s", log)]
    assert [d for d in delays if d > 0][:3] == [0.1, 0.2, 0.4], delays
    assert svc.serve.poll() is None, "the master itself must stay up"
    secret.write_bytes(good)
    wait_for_workers(svc, 2, gone=workers)
    assert svc.request("GET", "/webhooks", key=key)[0] == 200


def test_sigterm_stops_master_and_workers(make_service):
    svc = make_service()
    _, key = svc.new_user()
    wait_for_workers(svc, 2)
    children = descendants(svc.master_pid)
    assert len(children) >= 2
    os.kill(svc.master_pid, signal.SIGTERM)
    assert svc.serve.wait(20) == 0
    wait_until(lambda: not any(alive(pid) for pid in children), 10, what="children to exit")
    with socket.socket(socket.AF_UNIX) as s, pytest.raises(OSError):
        s.connect(str(svc.socket))
    status, _, answer = svc.request("GET", "/webhooks", key=key)
    assert (status, answer) == (502, {"error": "Service unavailable"})


def test_ctrl_c_stops_everything_without_logging_a_replacement(make_service):
    """Ctrl-C reaches the whole process group at once: the children that leave on it are
    stopping, not recycled or dead, and nothing is restarted."""
    svc = make_service()
    wait_for_workers(svc, 2)
    wait_until(svc.helper_pids, 10, what="the delivery helper")
    os.killpg(svc.master_pid, signal.SIGINT)
    assert svc.serve.wait(20) == 0
    log = svc.serve_log.read_text()
    assert "stopping" in log and "signal=SIGINT" in log, log
    for wrong in ("recycled", "died", "exited, restarting", "replacing"):
        assert wrong not in log, f"{wrong!r} in the log of a Ctrl-C:\n{log}"


@pytest.mark.files_only
def test_sigterm_lets_the_request_in_hand_finish(make_service):
    svc = make_service(workers=1)
    user, key = svc.new_user()
    svc.create_webhook(key)  # makes the user's folder and lock file
    answers = []
    # Hold the user's store lock, so the next write waits inside the worker: a request in hand.
    with open(svc.data_dir / "users" / user / "lock", "a") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        writer = threading.Thread(target=lambda: answers.append(svc.request(
            "POST", "/webhooks", key=key, body={"url": DISCORD_URL, "events": ["backup.created"]})))
        writer.start()
        time.sleep(1)
        os.kill(svc.master_pid, signal.SIGTERM)
        time.sleep(1)
        assert svc.serve.poll() is None, "the master must wait for the request in hand"
    writer.join(20)
    status, _, body = answers[0]
    assert status == 201, body
    assert svc.serve.wait(20) == 0
    logged = (svc.data_dir / "users" / user / "webhooks.jsonl").read_text().splitlines()
    assert json.loads(logged[-1])["webhook"]["id"] == body["id"], "the last line is the create in hand"


def test_workers_leave_when_the_master_is_killed(make_service):
    svc = make_service()
    workers = wait_for_workers(svc, 2)
    os.kill(svc.master_pid, signal.SIGKILL)
    svc.serve.wait(10)
    wait_until(lambda: not any(alive(pid) for pid in workers), 10, what="orphaned workers to exit")


def test_serve_takes_an_inherited_listening_socket_on_fd0(make_service):
    svc = make_service(start=False)
    configured = svc.run_dir / "configured.sock"
    svc.write_config(socket=configured)  # must stay unused: fd 0 wins
    svc.reached_at = str(svc.socket)
    with socket.socket(socket.AF_UNIX) as listener:
        listener.bind(str(svc.socket))
        os.chmod(svc.socket, 0o666)
        listener.listen(16)
        svc.start(stdin=listener)
    _, key = svc.new_user()
    assert svc.create_webhook(key)["userId"]
    assert not configured.exists()
    assert "inherited" in svc.serve_log.read_text()


# -- check-config ---------------------------------------------------------------------------------

def write_conf(tmp_path, extra=""):
    path = tmp_path / "check.conf"
    path.write_text(f"# test\ndata_dir = {tmp_path}/data\nsocket = {tmp_path}/fcgi.sock\n"
                    f"workers = 2  \n{extra}")
    return path


def check_config(path, env=None):
    result = run_binary(["check-config", "--config", str(path)], env=clean_env(env))
    return result.returncode, result.stdout + result.stderr


def named_keys(output):
    """Keys named at the start of `<key>: <why>` lines; an environment override may be named as
    its variable (STELLAR_WEBHOOKS_WORKERS counts as `workers`)."""
    names = {line.split(":", 1)[0].strip() for line in output.splitlines() if ":" in line}
    return {n[len("STELLAR_WEBHOOKS_"):].lower() if n.startswith("STELLAR_WEBHOOKS_") else n
            for n in names}


def test_check_config_ok(tmp_path):
    rc, out = check_config(write_conf(tmp_path))
    assert rc == 0, out
    assert out.strip() == (f"configuration OK: 2 workers, flat files in {tmp_path}/data, "
                           f"listening on {tmp_path}/fcgi.sock"), out
    # What serve would start, the environment included; a database URL is never printed.
    rc, out = check_config(write_conf(tmp_path), env={"workers": "5",
                                                      "database_url": "postgresql://u:hunter2@db/w"})
    assert rc == 0 and "configuration OK: 5 workers, PostgreSQL (database_url)," in out, out
    assert "hunter2" not in out


BAD = {
    "max_requests": "-5",
    "max_body_bytes": "lots",
    "socket_mode": "9999",
    "allow_insecure_targets": "maybe",
    "delivery_timeout": "0",
    "retry_schedule": "10,soon,300",
    "delivery_concurrency": "none",
    "global_rate_limit": "-1",
    "retention_days": "x",
    "log_level": "loud",
    "allowed_clients": "nginx.example",
    "secret_file": "relative/secret.key",
    "database_url": "mysql://db/webhooks",
}


def test_check_config_names_every_bad_key(tmp_path):
    extra = "".join(f"{k} = {v}\n" for k, v in BAD.items())
    rc, out = check_config(write_conf(tmp_path, extra), env={"workers": "abc"})
    assert rc == 1, out
    assert "configuration OK" not in out
    named = named_keys(out)
    missing = (set(BAD) | {"workers"}) - named
    assert not missing, f"not named: {sorted(missing)}\n{out}"
    assert not named & {"data_dir", "socket"}, out


def test_check_config_names_unknown_key(tmp_path):
    rc, out = check_config(write_conf(tmp_path, "wrokers = 4\n"))
    assert rc == 1 and "wrokers" in named_keys(out), out


def test_serve_refuses_bad_config(tmp_path):
    path = write_conf(tmp_path, "workers = many\n")
    log = tmp_path / "serve.log"
    with open(log, "wb") as out:
        proc = subprocess.Popen([str(BIN), "serve", "--config", str(path)], env=clean_env(),
                                stdin=subprocess.DEVNULL, stdout=out, stderr=out)
    try:
        rc = proc.wait(20)
    except subprocess.TimeoutExpired:
        for pid in [*descendants(proc.pid), proc.pid]:
            os.kill(pid, signal.SIGKILL)
        proc.wait()
        pytest.fail("serve started with workers = many")
    assert rc != 0
    assert "workers" in log.read_text()
    assert not (tmp_path / "fcgi.sock").exists()


# -- commands other than serve never make a store --------------------------------------------------

@pytest.mark.files_only
def test_a_command_pointed_at_no_store_says_so_and_makes_none(tmp_path):
    conf = write_conf(tmp_path)
    for args in (["keys", "create", "--service", "panel"], ["keys", "list"], ["servers", "list"],
                 ["emit", "server.started", "--server", "s1"]):
        result = run_binary([*args, "--config", str(conf)], env=clean_env())
        assert result.returncode == 1, (args, result)
        assert f"no store in {tmp_path}/data (data_dir)" in result.stderr, result.stderr
        assert "--config FILE or STELLAR_WEBHOOKS_CONFIG" in result.stderr, result.stderr
        assert not (tmp_path / "data").exists(), f"{args} made a store"


@pytest.mark.files_only
@pytest.mark.skipif(os.geteuid() != 0, reason="acting as data_dir's owner is what root does")
def test_root_acts_as_the_owner_of_the_services_data_dir(make_service):
    """`sudo stellar-webhooks keys create` on a store the service's user owns writes files that
    user can read: the command becomes data_dir's owner first."""
    svc = make_service(start=False)
    svc.data_dir.mkdir(mode=0o700)
    nobody = pwd.getpwnam("nobody")
    os.chown(svc.data_dir, nobody.pw_uid, nobody.pw_gid)
    svc.user_key("someone")
    owners = {(p.stat().st_uid, p.stat().st_gid) for p in svc.data_dir.rglob("*")}
    assert owners == {(nobody.pw_uid, nobody.pw_gid)}, owners


def test_emit_mistakes_show_emits_own_usage_and_every_argument_has_help(tmp_path):
    conf = write_conf(tmp_path)
    bad = run_binary(["emit", "server.started", "--server", "s1", "--data", "{bad", "--config", str(conf)],
                     env=clean_env())
    assert bad.returncode != 0
    assert "--data must be a JSON object" in bad.stderr, bad.stderr
    assert "Usage: stellar-webhooks emit" in bad.stderr, bad.stderr
    assert not (tmp_path / "data").exists()
    # `<server-id>` and `--server` come with their help text.
    for command in (["emit"], ["servers", "put"], ["servers", "remove"]):
        shown = run_binary([*command, "--help"], env=clean_env()).stdout
        described = re.findall(r"^\s*(?:<server-id>|--server <server-id>)\s+\S", shown, re.M)
        assert len(described) == 1, shown


def test_version_alone_answers_without_the_parser_as_the_parser_does():
    """`--version` alone is answered before ArgumentParser is built (main.swift): the same bytes,
    the version that Product.swift declares and a newline, with nothing on stderr."""
    product = (REPO_ROOT / "Sources/WebhooksCore/Support/Product.swift").read_text()
    version = re.search(r'public static let version = "(.+)"', product).group(1)
    result = subprocess.run([str(BIN), "--version"], capture_output=True, env=clean_env(), timeout=30)
    assert (result.returncode, result.stdout, result.stderr) == (0, f"{version}\n".encode(), b"")
    # Through the parser: another argument after it.
    parsed = subprocess.run([str(BIN), "--version", "extra"], capture_output=True, env=clean_env(), timeout=30)
    assert (parsed.returncode, parsed.stdout) == (0, result.stdout)
