"""The flat-file store: permissions, start-up recovery, concurrent writers (docs/architecture.md:
"Files on disk")."""

import json
import os
import random
import re
import signal
import stat
import subprocess
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from conftest import alive, discord_url

# The flat-file store's own files: not run on PostgreSQL.
pytestmark = pytest.mark.files_only


def populate(svc):
    """A user, a server, a webhook and a delivery: enough for every kind of file to exist."""
    owner, key = svc.new_user()
    server_id = svc.new_server(owner)
    w = svc.create_webhook(key)
    svc.cli("keys", "create", "--service", "panel-store")
    svc.cli("emit", "server.started", "--server", server_id)
    assert svc.delivery_total(key, w["id"]) == 1
    return key, w, server_id


def all_deliveries(svc, key, webhook_id):
    ids, offset = [], 0
    while True:
        status, _, body = svc.request(
            "GET", f"/webhooks/{webhook_id}/deliveries?limit=100&offset={offset}", key=key)
        assert status == 200, body
        ids += [d["id"] for d in body["deliveries"]]
        if not body["deliveries"]:
            return ids, body["total"]
        offset += 100


def test_permissions(svc):
    populate(svc)
    secret = svc.data_dir / "secret.key"
    assert secret.is_file()
    assert stat.S_IMODE(secret.stat().st_mode) == 0o600
    assert stat.S_IMODE(svc.data_dir.stat().st_mode) == 0o700
    wrong, count = [], 0
    for root, dirs, files in os.walk(svc.data_dir):
        for name in dirs + files:
            path = Path(root, name)
            st = path.lstat()
            mode = stat.S_IMODE(st.st_mode)
            count += 1
            if stat.S_ISDIR(st.st_mode):
                ok = mode == 0o700
            elif stat.S_ISREG(st.st_mode):
                ok = mode == 0o600
            else:  # a notify socket or FIFO: at least nobody else's business
                ok = mode & 0o077 == 0
            if not ok:
                wrong.append(f"{oct(mode)} {path.relative_to(svc.data_dir)}")
    assert count >= 4, "the store holds hardly any files: is data_dir used?"
    assert not wrong, "wrong modes:\n" + "\n".join(wrong)


def snapshot(data_dir):
    """Every path under data_dir -> file content (None for directories)."""
    result = {}
    for root, dirs, files in os.walk(data_dir):
        for name in dirs:
            result[Path(root, name).relative_to(data_dir)] = None
        for name in files:
            path = Path(root, name)
            if path.is_file():
                result[path.relative_to(data_dir)] = path.read_bytes()
    return result


def test_startup_removes_tmp_files_and_nothing_else(make_service):
    svc = make_service()
    key, w, _ = populate(svc)
    svc.stop()

    deepest = max((Path(root) for root, _, _ in os.walk(svc.data_dir)),
                  key=lambda p: len(p.parts))
    planted = [svc.data_dir / ".tmp-e2e-file", deepest / ".tmp-e2e-nested",
               svc.data_dir / ".tmp-e2e-dir" / "inner.json"]
    for path in planted:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text('{"half": ')
    decoys = [svc.data_dir / "keep.tmp-e2e", svc.data_dir / "tmp-e2e-keep"]
    for path in decoys:
        path.write_text("keep me")
    before = snapshot(svc.data_dir)

    svc.start()
    assert not (svc.data_dir / ".tmp-e2e-dir").exists()
    for path in planted:
        assert not path.exists(), f"{path} survived start-up"
    after = snapshot(svc.data_dir)
    # The scoreboard is the running master's, made anew at every start.
    kept = {p: c for p, c in before.items()
            if not any(part.startswith(".tmp-") for part in p.parts) and p.name != "scoreboard"}
    changed = [str(p) for p, content in kept.items() if after.get(p, b"<gone>") != content]
    assert not changed, f"start-up touched: {changed}"

    listing = svc.request("GET", "/webhooks", key=key)[2]
    assert [x["id"] for x in listing] == [w["id"]]
    assert svc.delivery_total(key, w["id"]) == 1


def test_concurrent_writers_lose_nothing(svc):
    owner, key = svc.new_user()
    server_id = svc.new_server(owner)
    hooks = [svc.create_webhook(key, url=discord_url(n)) for n in range(2)]
    panel = svc.service_key("panel-concurrency")
    cli_rounds, http_rounds, creates = 12, 30, 10

    def cli_emitter(_):
        counts = []
        for _ in range(cli_rounds):
            out = svc.cli("emit", "server.started", "--server", server_id).stdout
            counts.append(int(re.search(r"queued (\d+) deliveries", out).group(1)))
        return counts

    def http_emitter(_):
        counts = []
        for _ in range(http_rounds):
            status, _, body = svc.post_event(panel, "server.started", server_id)
            assert status == 202, body
            counts.append(body["deliveries"])
        return counts

    def creator(n):
        made = []
        for i in range(creates):
            made.append(svc.create_webhook(key, events=["file.created"],
                                           url=discord_url(100 + 100 * n + i))["id"])
        return made

    with ThreadPoolExecutor(max_workers=7) as pool:
        cli_jobs = [pool.submit(cli_emitter, n) for n in range(2)]
        http_jobs = [pool.submit(http_emitter, n) for n in range(3)]
        create_jobs = [pool.submit(creator, n) for n in range(2)]
        reported = [c for job in cli_jobs + http_jobs for c in job.result()]
        created = [i for job in create_jobs for i in job.result()]

    events = 2 * cli_rounds + 3 * http_rounds
    assert len(reported) == events and set(reported) == {2}, "each event reaches both webhooks"
    for w in hooks:
        ids, total = all_deliveries(svc, key, w["id"])
        assert total == events and len(ids) == len(set(ids)) == events, (total, len(ids))
        assert svc.webhook(key, w["id"])["_count"] == {"deliveries": events}
    listed = {x["id"] for x in svc.request("GET", "/webhooks", key=key)[2]}
    assert listed == set(created) | {w["id"] for w in hooks}


def test_kill_9_of_cli_writers_leaves_store_whole(make_service):
    """emit processes killed at random instants while HTTP writes go on: every acknowledged write
    is there, nothing half-written shows, and a restart recovers a consistent store."""
    svc = make_service()
    owner, key = svc.new_user()
    server_id = svc.new_server(owner)
    hooks = [svc.create_webhook(key, url=discord_url(n)) for n in range(2)]
    panel = svc.service_key("panel-kill")
    rng = random.Random(1234)
    completed = killed = 0
    acknowledged = 0
    for _ in range(40):
        proc = subprocess.Popen(svc.cli_command("emit", "server.started", "--server", server_id),
                                env=svc.env, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
                                text=True)
        status, _, body = svc.post_event(panel, "server.started", server_id)
        assert status == 202 and body["deliveries"] == 2, body
        acknowledged += 1
        time.sleep(rng.uniform(0, 0.08))
        proc.send_signal(signal.SIGKILL)
        out, _ = proc.communicate()
        if proc.returncode == 0 and "queued 2 deliveries" in out:
            completed += 1
        else:
            killed += 1

    def check_consistent():
        for w in hooks:
            ids, total = all_deliveries(svc, key, w["id"])
            assert len(ids) == len(set(ids)) == total, (len(ids), total)
            assert acknowledged + completed <= total <= acknowledged + completed + killed, (
                total, acknowledged, completed, killed)
            assert svc.webhook(key, w["id"])["_count"] == {"deliveries": total}
            for delivery_id in ids:
                status, _, d = svc.request(
                    "GET", f"/webhooks/{w['id']}/deliveries/{delivery_id}", key=key)
                assert status == 200 and d["id"] == delivery_id, (status, d)
        for root, _, files in os.walk(svc.data_dir):
            for name in files:
                if name.endswith(".json") and ".tmp-" not in root + name:
                    json.loads(Path(root, name).read_text())  # whole, never half a file

    check_consistent()
    svc.restart()
    # A temp file of a live process (the new helper recording a send) is a write in progress;
    # one of a process that is gone is a leftover the start should have removed.
    leftovers = [p for p in svc.data_dir.rglob(".tmp-*")
                 if not any(alive(int(part)) for part in p.name.split(".") if part.isdigit())]
    assert not leftovers, leftovers
    check_consistent()
    before = [svc.delivery_total(key, w["id"]) for w in hooks]
    assert svc.post_event(panel, "server.started", server_id)[2]["deliveries"] == 2
    assert [svc.delivery_total(key, w["id"]) for w in hooks] == [n + 1 for n in before]
