"""A full disk, for real: data_dir on a small tmpfs that the test fills to the last page.

- The API answers 503 `Storage unavailable` with Retry-After, leaves no partial record (no torn
  line in a user's webhook log, no delivery or outbox entry for an unanswered event), logs the cause, and works
  again by itself once space is back.
- The delivery helper never sends again a message Discord has answered but that it could not
  record: it holds the outcome, pauses new sends (one critical log line), retries the write and
  resumes by itself.

Mounting needs root: skipped otherwise.
"""

import errno
import json
import os
import subprocess
import time

import pytest

from conftest import assert_error, fake_discord_config, wait_until
from delivery_setup import new_discord_id
from metrics import scrape

pytestmark = pytest.mark.skipif(os.geteuid() != 0, reason="mounting a tmpfs for data_dir needs root")

TMPFS_SIZE = "8m"

# The flat-file store's own files: not run on PostgreSQL.
pytestmark = pytest.mark.files_only


class SmallDisk:
    """data_dir of a not yet started service, on its own tmpfs; `fill` and `free` it."""

    def __init__(self, service):
        self.path = service.data_dir
        self.path.mkdir(mode=0o700)
        subprocess.run(["mount", "-t", "tmpfs", "-o", f"size={TMPFS_SIZE},mode=0700", "tmpfs",
                        str(self.path)], check=True)
        self.filler = self.path / "filler"

    def fill(self):
        """Writes until the disk refuses even one more byte."""
        with open(self.filler, "ab", buffering=0) as f:
            for chunk in (1 << 20, 1 << 12, 1):
                try:
                    while True:
                        f.write(b"\0" * chunk)
                except OSError as e:
                    assert e.errno == errno.ENOSPC, e
        probe = self.path / "probe"
        with pytest.raises(OSError):
            with open(probe, "wb", buffering=0) as f:
                f.write(b"x")
        probe.unlink(missing_ok=True)

    def free(self):
        self.filler.unlink()

    def unmount(self):
        subprocess.run(["umount", "-l", str(self.path)], check=False)


@pytest.fixture
def small_disk_service(make_service):
    made = []

    def factory(config=None):
        svc = make_service(config=config, start=False)
        disk = SmallDisk(svc)
        made.append((svc, disk))
        svc.start()
        return svc, disk

    try:
        yield factory
    finally:
        for svc, disk in made:
            svc.stop()
            disk.unmount()


def records_under(folder):
    """Every record file (lock files are not records)."""
    return sorted(str(p.relative_to(folder)) for p in folder.rglob("*")
                  if p.is_file() and p.suffix in (".json", ".jsonl", ".idx", ".key"))


def whole_lines(path):
    """A log's lines, each checked to be whole JSON."""
    data = path.read_bytes()
    assert data.endswith(b"\n"), "no torn line"
    return [json.loads(line) for line in data.splitlines()]


def test_a_full_disk_answers_503_leaves_nothing_half_written_and_recovers(small_disk_service,
                                                                           discord):
    svc, disk = small_disk_service(fake_discord_config(discord))
    user, key = svc.new_user()
    skey = svc.service_key("panel-disk")
    server = svc.new_server(user)
    hook = svc.create_webhook(key, events=["server.started"], url=discord.url(new_discord_id()))
    log = svc.data_dir / "users" / user / "webhooks.jsonl"

    disk.fill()

    # A create appends a line to the user's log, which fits in the space left in the log's last
    # page until that is used up: each 201 is kept, and the first create that does not fit gets
    # a 503 and leaves the log as it was.
    acknowledged = [hook["id"]]
    for _ in range(40):
        before_create = log.read_bytes()
        status, headers, body = svc.request("POST", "/webhooks", key=key,
                                            body={"url": discord.url(new_discord_id()),
                                                  "events": ["backup.created"]})
        if status != 201:
            break
        acknowledged.append(body["id"])
    assert_error(status, body, 503, "Storage unavailable")
    assert headers["Retry-After"].isdigit(), headers
    assert log.read_bytes() == before_create, "the refused create left no line"
    assert [line["live"] for line in whole_lines(log)] == list(range(1, len(acknowledged) + 1))
    status, _, listed = svc.request("GET", "/webhooks", key=key)
    assert status == 200 and sorted(w["id"] for w in listed) == sorted(acknowledged), listed
    before = records_under(svc.data_dir)

    status, headers, body = svc.request("PATCH", f"/webhooks/{hook['id']}", key=key,
                                        body={"events": ["server.stopped", "server.started", "backup.created"]})
    assert_error(status, body, 503, "Storage unavailable")
    assert svc.webhook(key, hook["id"])["events"] == ["server.started"]
    assert log.read_bytes() == before_create

    status, headers, body = svc.post_event(skey, "server.started", server,
                                           headers={"Idempotency-Key": "disk-full-1"})
    assert_error(status, body, 503, "Storage unavailable")
    assert "Retry-After" in headers
    assert os.listdir(svc.data_dir / "outbox") == [], "no outbox entry for an unanswered event"
    assert svc.delivery_total(key, hook["id"]) == 0
    assert records_under(svc.data_dir) == before, "nothing half-written"
    assert "No space left on device" in svc.serve_log.read_text(), "the cause is logged"
    assert scrape(svc).value("stellar_webhooks_storage_unavailable_total") == 3, "each 503 is counted"

    disk.free()

    status, _, created = svc.request("POST", "/webhooks", key=key,
                                     body={"url": discord.url(new_discord_id()),
                                           "events": ["server.started"]})
    assert status == 201, (status, created)
    status, _, body = svc.post_event(skey, "server.started", server,
                                     headers={"Idempotency-Key": "disk-full-1"})
    assert status == 202 and body["deliveries"] == 2, (status, body)
    svc.wait_for_deliveries(key, hook["id"], 1, status="delivered")


def test_an_answer_that_cannot_be_recorded_is_never_sent_again(small_disk_service, discord):
    svc, disk = small_disk_service(fake_discord_config(discord, retry_schedule="1,1"))
    user, key = svc.new_user()
    skey = svc.service_key("panel-disk")
    server = svc.new_server(user)
    discord_id = new_discord_id()
    hook = svc.create_webhook(key, events=["server.started"], url=discord.url(discord_id))
    # The first message is still on its way when the disk fills; the second waits behind it
    # (one request at a time per Discord webhook).
    discord.set_fault(discord_id, ("slow", 3))
    for n in (1, 2):
        status, _, body = svc.post_event(skey, "server.started", server, data={"n": n})
        assert status == 202, (status, body)
    wait_until(lambda: discord.connections >= 1, 10, what="the first send to reach the fake")
    disk.fill()

    discord.wait_for(1, discord_id, timeout=10)
    time.sleep(12)  # more than two outbox passes and two write retries
    assert len(discord.received(discord_id)) == 1, \
        "sent again although Discord had answered, or a new send started while nothing can be recorded"
    log = svc.serve_log.read_text()
    assert log.count("the store cannot be written") == 1, "critical once, not on every retry"
    assert [d["status"] for d in svc.deliveries(key, hook["id"])] == ["pending", "pending"]
    # Watching it: the pause and why, on the metrics and in `status`.
    assert scrape(svc).value("stellar_webhooks_sends_paused", reason="full_disk") == 1
    assert scrape(svc).value("stellar_webhooks_deliveries_pending") == 2
    assert "paused (the store cannot be written) until the store takes writes" in svc.cli("status").stdout

    disk.free()

    delivered = svc.wait_for_deliveries(key, hook["id"], 2, status="delivered", timeout=30)
    got = discord.wait_for(2, discord_id, timeout=10)
    time.sleep(1)
    assert len(discord.received(discord_id)) == 2, "each message exactly once"
    assert sorted(r.body["embeds"][0]["fields"][2]["value"] for r in got) == ["1", "2"]
    assert all(d["attempts"] == 1 for d in delivered), delivered
    assert "sends resume" in svc.serve_log.read_text()
    assert scrape(svc).value("stellar_webhooks_sends_paused", reason="full_disk") == 0
