"""`serve` under systemd (docs/architecture.md: "Processes"), without systemd as PID 1: its
socket activation run by systemd's own `systemd-socket-activate` (LISTEN_PID, LISTEN_FDS, fd 3),
and its readiness protocol heard on a NOTIFY_SOCKET of the test's own, as systemd would: READY=1
once the workers accept, RELOADING=1 then READY=1 around a SIGHUP, STOPPING=1, and STATUS= lines."""

import json
import os
import shutil
import signal
import stat
import subprocess
import time

import pytest

from conftest import BIN, Service, LIVE_SERVICES, wait_until
from notify_socket import Notifications

ACTIVATE = shutil.which("systemd-socket-activate")
pytestmark = pytest.mark.skipif(ACTIVATE is None, reason="systemd-socket-activate (package systemd) is not installed")


@pytest.fixture
def activated(tmp_path):
    """A service whose socket systemd-socket-activate holds, and whose notifications a test socket
    hears; serve starts on the first connection. Yields (service, notifications, activator)."""
    svc = Service()
    activated_socket = svc.run_dir / "activated.sock"
    svc.reached_at = str(activated_socket)
    notes = Notifications(svc.run_dir / "notify.sock")
    env = {k: v for k, v in svc.env.items()}
    log = open(svc.serve_log, "ab")
    activator = subprocess.Popen(
        [ACTIVATE, "-l", str(activated_socket), "-E", f"NOTIFY_SOCKET={notes.path}",
         *[arg for name, value in env.items() if name.startswith("STELLAR_WEBHOOKS_") for arg in ("-E", f"{name}={value}")],
         str(BIN), "serve", "--config", str(svc.config_path)],
        stdin=subprocess.DEVNULL, stdout=log, stderr=log, env=env, start_new_session=True)
    svc.serve = activator  # it execs serve in its place: one pid throughout
    LIVE_SERVICES.append(svc)
    try:
        wait_until(lambda: activated_socket.exists(), 10, what="systemd-socket-activate's socket")
        if os.geteuid() == 0:  # as the socket unit would (SocketGroup, SocketMode): nginx's workers connect
            shutil.chown(activated_socket, group="nogroup")
            os.chmod(activated_socket, 0o660)
        svc._start_nginx()
        yield svc, notes, activator
    finally:
        log.close()
        notes.close()
        svc.cleanup()


def program(pid):
    """What the process runs now (systemd-socket-activate execs serve in its place)."""
    return os.path.basename(os.readlink(f"/proc/{pid}/exe"))


def socket_inode(path):
    """The inode of the listening unix socket bound at `path` (/proc/net/unix)."""
    with open("/proc/net/unix") as table:
        for line in table.readlines()[1:]:
            fields = line.split()
            if len(fields) >= 8 and fields[7] == str(path):
                return fields[6]
    return None


def open_socket_inodes(pid):
    found = set()
    for fd in os.listdir(f"/proc/{pid}/fd"):
        try:
            target = os.readlink(f"/proc/{pid}/fd/{fd}")
        except OSError:
            continue
        if target.startswith("socket:["):
            found.add(target[8:-1])
    return found


def test_the_first_request_starts_the_service_on_systemds_socket(activated):
    svc, notes, activator = activated
    time.sleep(0.3)
    assert program(activator.pid) == "systemd-socket-activate", "serve started before any connection"
    assert notes.poll() == []

    status, _, body = svc.request("GET", "/webhooks")  # this very request starts it
    assert status == 401, (status, body)
    assert program(activator.pid) == BIN.name
    ready = notes.wait_for("READY")
    assert "STATUS" in notes.messages[ready] and "workers" in notes.messages[ready]["STATUS"], notes.messages
    # Ready means every worker waits for connections and the helper runs.
    assert len(svc.worker_pids()) == 2 and len(svc.helper_pids()) == 1

    _, key = svc.new_user()
    assert svc.create_webhook(key)["userId"]
    assert not svc.socket.exists(), "serve made its own socket beside systemd's"
    assert "inherited from systemd" in svc.serve_log.read_text()

    report = json.loads(svc.cli("status", "--json").stdout)
    assert report["socket"] == {"address": svc.reached_at, "inherited": True}, report

    # Only workers hold the listening socket; the delivery helper, which talks to the outside,
    # does not inherit it.
    inode = socket_inode(svc.reached_at)
    assert inode is not None
    [helper] = svc.helper_pids()
    assert inode not in open_socket_inodes(helper)
    assert all(inode in open_socket_inodes(pid) for pid in svc.worker_pids())
    # Nor do children see systemd's variables, which name the master's pid.
    for pid in svc.worker_pids() | {helper}:
        with open(f"/proc/{pid}/environ", "rb") as f:
            names = {entry.split(b"=", 1)[0] for entry in f.read().split(b"\0") if entry}
        assert not names & {b"LISTEN_PID", b"LISTEN_FDS", b"NOTIFY_SOCKET"}, names


def test_reload_and_stop_are_announced_and_the_socket_outlives_the_service(activated):
    svc, notes, activator = activated
    assert svc.request("GET", "/webhooks")[0] == 401
    ready = notes.wait_for("READY")
    old_workers = svc.worker_pids()

    os.kill(activator.pid, signal.SIGHUP)
    reloading = notes.wait_for("RELOADING", after=ready + 1)
    again = notes.wait_for("READY", after=reloading + 1)
    assert again > reloading
    wait_until(lambda: svc.worker_pids() and not svc.worker_pids() & old_workers, 15, what="the new workers")
    assert svc.request("GET", "/webhooks")[0] == 401

    os.kill(activator.pid, signal.SIGTERM)
    notes.wait_for("STOPPING", after=again + 1)
    activator.wait(30)
    path = svc.reached_at
    assert stat.S_ISSOCK(os.stat(path).st_mode), "serve must not remove the socket it was handed"


def test_status_lines_follow_the_service(activated):
    svc, notes, activator = activated
    assert svc.request("GET", "/webhooks")[0] == 401
    ready = notes.wait_for("READY")
    assert notes.messages[ready]["STATUS"].startswith("2 workers (")
    assert "0 deliveries pending" in notes.messages[ready]["STATUS"]
    # Another line comes every few seconds.
    wait_until(lambda: any("STATUS" in m and "READY" not in m for m in notes.poll()[ready + 1:]), 12,
               what="a later STATUS= line")

