"""The Quick start's run command, `make run` exactly as README says, as an unprivileged user of a
shared host: nginx is in /usr/sbin, off that user's PATH; nothing may need root once the system
packages are installed and the release build is up to date.

Each test runs `make run` as a throwaway system user (created here, removed afterwards) in a
throwaway copy of the repository's tracked files owned by that user, on a free port.
"""

import http.client
import json
import os
import pwd
import shutil
import signal
import socket
import subprocess
import tempfile
import time
import uuid
from pathlib import Path

import pytest

from conftest import BIN, EVENTS, JSON_CONTENT_TYPE, KEY_RE, REPO_ROOT, free_port, wait_until

ADMIN_PATH = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"
# A shared host user's PATH: no /usr/sbin, so no nginx on it (Debian keeps nginx there).
USER_PATH = "/usr/local/bin:/usr/bin:/bin"
RUNNING_TEXT = "is running"
READY_TEXT = "Ctrl-C stops nginx and the service."


def _tool(name):
    return shutil.which(name, path=ADMIN_PATH)


pytestmark = [
    pytest.mark.skipif(os.geteuid() != 0,
                       reason="runs `make run` as a throwaway unprivileged user: creating that "
                              "user and switching to it needs root"),
    pytest.mark.skipif(not all(map(_tool, ["setpriv", "useradd", "userdel", "make", "git"])),
                       reason="needs setpriv, useradd, userdel, make and git"),
]


# ---------------------------------------------------------------------------------------------
# The user, the copy, the processes

def user_pids(uid):
    """Live processes whose real or effective user is `uid`."""
    pids = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/status") as f:
                status = dict(line.split(":", 1) for line in f if ":" in line)
        except OSError:
            continue
        if status.get("State", "").strip()[:1] in ("Z", "X"):
            continue
        real, effective = status.get("Uid", "").split()[:2]
        if uid in (int(real), int(effective)):
            pids.append(int(entry))
    return pids


def process_list(pids):
    lines = []
    for pid in pids:
        try:
            with open(f"/proc/{pid}/cmdline", "rb") as f:
                command = f.read().replace(b"\0", b" ").decode(errors="replace")
            lines.append(f"{pid} {command}")
        except OSError:
            pass
    return "\n".join(lines)


def kill_user_processes(uid):
    """SIGKILLs, by pid, whatever the throwaway user still runs (only the tests start any)."""
    deadline = time.monotonic() + 10
    while (pids := user_pids(uid)) and time.monotonic() < deadline:
        for pid in pids:
            try:
                os.kill(pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
        time.sleep(0.1)


def assert_none_left(uid, timeout, after):
    """Waits until the user runs no process; fails listing those still running."""
    deadline = time.monotonic() + timeout
    while pids := user_pids(uid):
        if time.monotonic() > deadline:
            raise AssertionError(f"still running {timeout}s {after}:\n{process_list(pids)}")
        time.sleep(0.1)


@pytest.fixture(scope="module")
def shared_host_user():
    """A throwaway system user and group (no home, no login, no sudo): (name, uid, gid)."""
    name = f"swhqs-{uuid.uuid4().hex[:8]}"
    subprocess.run([_tool("useradd"), "--system", "--user-group", "--no-create-home",
                    "--home-dir", "/nonexistent", "--shell", "/usr/sbin/nologin", name],
                   check=True, capture_output=True)
    entry = pwd.getpwnam(name)
    try:
        yield name, entry.pw_uid, entry.pw_gid
    finally:
        kill_user_processes(entry.pw_uid)
        subprocess.run([_tool("userdel"), name], capture_output=True)


def copy_checkout(repo):
    """Copies the repository's tracked files to `repo`, with the release binary in place."""
    if not BIN.exists():
        pytest.fail(f"binary not found: {BIN} (set STELLAR_WEBHOOKS_BIN)")
    # safe.directory: the checkout may belong to someone else than root.
    listed = subprocess.run([_tool("git"), "-c", "safe.directory=*", "-C", str(REPO_ROOT),
                             "ls-files", "-z"], capture_output=True)
    if listed.returncode != 0:
        pytest.skip(f"needs a git checkout to copy its tracked files: "
                    f"{listed.stderr.decode(errors='replace').strip()}")
    files = listed.stdout.decode().split("\0")
    for rel in filter(None, files):
        src = REPO_ROOT / rel
        if src.is_file():  # tracked files another engineer is deleting right now are skipped
            (repo / rel).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(src, repo / rel)  # keeps mode (scripts) and mtime
    # The release build `make run` expects is the debug binary the tests use: a release
    # build takes minutes. Copied after the sources and with a fresh mtime, so it is newer
    # than every one of them and `make release` has nothing to do (no `swift build`).
    release = repo / ".build" / "release" / "stellar-webhooks"
    release.parent.mkdir(parents=True)
    shutil.copyfile(BIN, release)
    os.chmod(release, 0o755)


@pytest.fixture
def checkout(shared_host_user):
    """A copy of the repository's tracked files owned by the throwaway user: -> its folder."""
    _, uid, gid = shared_host_user
    top = Path(tempfile.mkdtemp(prefix="swh-quick-start-"))
    repo = top / "repo"
    try:
        copy_checkout(repo)
        for path in [top, *top.rglob("*")]:
            os.chown(path, uid, gid, follow_symlinks=False)
        yield repo
    finally:
        kill_user_processes(uid)
        shutil.rmtree(top, ignore_errors=True)


@pytest.fixture
def root_checkout():
    """A copy owned by root inside a 0700 home, as root's clone under /root: -> its folder."""
    home = Path(tempfile.mkdtemp(prefix="swh-root-home-"))  # mkdtemp makes it 0700
    assert home.stat().st_mode & 0o777 == 0o700
    repo = home / "repo"
    try:
        copy_checkout(repo)
        yield repo
    finally:
        shutil.rmtree(home, ignore_errors=True)


def start_make_run(user, repo, port, out_name="make-run.out"):
    """`make run` in `repo` as `user` (None: root), with a shared host user's environment (root's
    own), in its own process group (as in a terminal) -> (Popen, path of its combined output)."""
    name = user[0] if user else "root"
    out_path = repo.parent / out_name
    env = {"PATH": USER_PATH if user else ADMIN_PATH, "HOME": str(repo.parent), "USER": name,
           "LOGNAME": name, "SHELL": "/bin/sh", "LANG": "C.UTF-8", "PORT": str(port)}
    become = [_tool("setpriv"), "--reuid", name, "--regid", name, "--init-groups"] if user else []
    with open(out_path, "wb") as out:
        proc = subprocess.Popen(
            [*become, "make", "run"],
            cwd=repo, env=env, stdin=subprocess.DEVNULL, stdout=out, stderr=subprocess.STDOUT,
            start_new_session=True)
    return proc, out_path


def get(port, path, key, timeout=10):
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
    try:
        conn.request("GET", path, headers={"Authorization": f"Bearer {key}"})
        resp = conn.getresponse()
        return resp.status, resp.headers, resp.read().decode(errors="replace")
    finally:
        conn.close()


def read(path):
    return Path(path).read_text(errors="replace")


# ---------------------------------------------------------------------------------------------
# The tests

def test_make_run_as_unprivileged_user_finds_nginx_answers_and_stops_on_ctrl_c(shared_host_user,
                                                                                checkout):
    assert shutil.which("nginx", path=USER_PATH) is None, "nginx is on the user's PATH: the test " \
        "would not show that make run finds it in /usr/sbin"
    _, uid, _ = shared_host_user
    port = free_port()
    proc, out_path = start_make_run(shared_host_user, checkout, port)
    try:
        wait_until(lambda: proc.poll() is not None or READY_TEXT in read(out_path), 60,
                   interval=0.1, what="make run to say it is running")
        out = read(out_path)
        assert proc.poll() is None, f"make run exited {proc.returncode}:\n{out}"
        assert "swift build" not in out, f"make run rebuilt an up-to-date checkout:\n{out}"
        assert f"{RUNNING_TEXT} behind nginx on http://127.0.0.1:{port}" in out, out
        keys = [line.strip() for line in out.splitlines() if KEY_RE.match(line.strip())]
        assert len(keys) == 1, f"expected one demo key on a line of its own:\n{out}"

        # The key works through that nginx.
        status, headers, body = get(port, "/webhooks/events", keys[0])
        assert status == 200, (status, body)
        assert headers["Content-Type"] == JSON_CONTENT_TYPE
        assert sorted(json.loads(body)["events"]) == sorted(EVENTS)

        # nginx (from /usr/sbin) and the service run as that user; nginx logs in ./run.
        running = process_list(user_pids(uid))
        assert "nginx: master process" in running, running
        assert " serve --config " in running, running
        assert (checkout / "run" / "nginx-error.log").exists()

        # Ctrl-C: SIGINT to the terminal's process group stops nginx and the service.
        os.killpg(proc.pid, signal.SIGINT)
        proc.wait(30)
        assert_none_left(uid, 30, "after Ctrl-C")
        with pytest.raises(OSError):
            socket.create_connection(("127.0.0.1", port), timeout=2).close()
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait(10)
        kill_user_processes(uid)


def test_make_run_says_what_failed_when_nginx_cannot_start(shared_host_user, checkout):
    _, uid, _ = shared_host_user
    with socket.socket() as taken:  # nginx's port is taken: nginx cannot start
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        proc, out_path = start_make_run(shared_host_user, checkout, port)
        try:
            rc = proc.wait(60)
            out = read(out_path)
            assert rc != 0, out
            assert RUNNING_TEXT not in out and "swh_" not in out, out
            nginx_log = checkout / "run" / "nginx-error.log"
            assert "nginx" in out and f"its log is {nginx_log}" in out, out
            assert "Address already in use" in out, out  # the log's reason, on screen as well
            # It stopped the service it had started: nothing of that user is left.
            assert_none_left(uid, 10, "after make run failed")
        finally:
            if proc.poll() is None:
                proc.kill()
                proc.wait(10)
            kill_user_processes(uid)


def printed_key(out):
    keys = [line.strip() for line in out.splitlines() if KEY_RE.match(line.strip())]
    assert len(keys) == 1, f"expected one demo key on a line of its own:\n{out}"
    return keys[0]


def run_until_ready(repo, port, out_name):
    proc, out_path = start_make_run(None, repo, port, out_name)
    wait_until(lambda: proc.poll() is not None or READY_TEXT in read(out_path), 60,
               interval=0.1, what="make run to say it is running")
    out = read(out_path)
    assert proc.poll() is None, f"make run exited {proc.returncode}:\n{out}"
    return proc, out


def stop_make_run(proc):
    os.killpg(proc.pid, signal.SIGINT)
    proc.wait(30)


def test_make_run_as_root_in_a_0700_home_serves_and_its_cli_lines_work_as_printed(root_checkout):
    """nginx's workers run as nobody and cannot pass the 0700 home: the socket and what they
    write live under /tmp, and no folder above the clone has its permissions changed."""
    home = root_checkout.parent
    port = free_port()
    proc, out = run_until_ready(root_checkout, port, "first.out")
    try:
        first = printed_key(out)
        assert get(port, "/webhooks/events", first)[0] == 200
        assert home.stat().st_mode & 0o777 == 0o700, "make run changed a folder it did not make"
        # Every path answers the API's JSON in the development configuration.
        status, headers, body = get(port, "/health", first)
        assert status == 404 and json.loads(body) == {"error": "Not found"}, (status, body)

        # The CLI lines it prints act on this service's store, exactly as printed.
        cli_lines = [line.strip() for line in out.splitlines() if "--config" in line]
        assert cli_lines, out
        for line in cli_lines:
            result = subprocess.run(line, shell=True, capture_output=True, text=True, timeout=60,
                                    env={"PATH": ADMIN_PATH})
            assert result.returncode == 0, (line, result.stdout, result.stderr)
            if " keys create --service " in line:
                service_key = result.stdout.strip().splitlines()[-1]
            if " status " in line:
                assert "is running" in result.stdout, result.stdout
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
        conn.request("PUT", "/servers/printed", body=json.dumps({"name": "n", "ownerId": "demo"}),
                     headers={"Authorization": f"Bearer {service_key}", "Content-Type": "application/json"})
        assert conn.getresponse().status == 200, "the printed service key was refused: another store"
        conn.close()
    finally:
        stop_make_run(proc)
    config = (root_checkout / "run" / "stellar-webhooks.conf").read_text()
    socket_path = Path(next(l.split("=", 1)[1].strip() for l in config.splitlines() if l.startswith("socket =")))
    assert socket_path.parent.parent == Path("/tmp"), socket_path
    assert not socket_path.parent.exists(), "make run left its socket folder behind"

    # A second run prints a new key and revokes the first: one active demo key.
    proc, out = run_until_ready(root_checkout, port, "second.out")
    try:
        second = printed_key(out)
        assert second != first
        assert get(port, "/webhooks/events", second)[0] == 200
        assert get(port, "/webhooks/events", first)[0] == 401
    finally:
        stop_make_run(proc)
