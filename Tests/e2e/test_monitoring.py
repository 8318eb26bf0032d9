"""Watching the service (docs/architecture.md: "Monitoring"): `GET /metrics` through nginx and
`stellar-webhooks metrics`, parsed with Prometheus' own parser (prometheus_client), follow a
known load; a killed worker takes nothing away; pending deliveries follow a stopped helper; and
`status` says what runs, as text and JSON, with LSB's exit codes."""

import json
import os
import shutil
import signal
import socket
import subprocess
import time

import pytest

from conftest import wait_until
from delivery_setup import Setup
from metrics import Metrics, scrape

FAMILIES = {
    "stellar_webhooks_build_info", "stellar_webhooks_start_time_seconds",
    "stellar_webhooks_requests", "stellar_webhooks_request_duration_seconds",
    "stellar_webhooks_workers", "stellar_webhooks_workers_configured",
    "stellar_webhooks_worker_restarts", "stellar_webhooks_delivery_helper_up",
    "stellar_webhooks_delivery_helper_restarts", "stellar_webhooks_events_received",
    "stellar_webhooks_deliveries_finished", "stellar_webhooks_send_duration_seconds",
    "stellar_webhooks_sends_in_flight", "stellar_webhooks_deliveries_pending",
    "stellar_webhooks_oldest_pending_delivery_age_seconds",
    "stellar_webhooks_last_delivery_timestamp_seconds",
    "stellar_webhooks_last_failed_delivery_timestamp_seconds", "stellar_webhooks_sends_paused",
    "stellar_webhooks_rate_limited", "stellar_webhooks_webhooks_disabled",
    "stellar_webhooks_storage_unavailable",
}


def test_metrics_follow_a_known_load(make_service, discord):
    setup = Setup(make_service, discord)
    svc = setup.svc
    hooks = [setup.hook()[0] for _ in range(3)]
    before = scrape(svc)
    assert FAMILIES <= set(before.families), FAMILIES - set(before.families)
    assert before.value("stellar_webhooks_build_info", version=svc.cli("--version").stdout.strip()) == 1
    assert before.value("stellar_webhooks_workers_configured") == 2
    assert before.value("stellar_webhooks_delivery_helper_up") == 1
    assert before.value("stellar_webhooks_workers", state="idle") + before.value("stellar_webhooks_workers", state="busy") == 2
    assert abs(before.value("stellar_webhooks_start_time_seconds") - time.time()) < 120

    for _ in range(2):
        setup.emit("server.started")
    for hook in hooks:
        setup.finished(hook, 2, status="delivered")
    after = scrape(svc)

    def moved(name, **labels):
        return after.value(name, **labels) - before.value(name, absent_is_zero=True, **labels)

    assert moved("stellar_webhooks_deliveries_finished_total", outcome="delivered") == 6
    assert moved("stellar_webhooks_deliveries_finished_total", outcome="failed") == 0
    assert moved("stellar_webhooks_events_received_total", event="server.started") == 2
    assert moved("stellar_webhooks_requests_total", method="POST", route="/events", code="202") == 2
    assert moved("stellar_webhooks_request_duration_seconds_count", method="POST", route="/events") == 2
    assert moved("stellar_webhooks_send_duration_seconds_count") == 6
    assert after.value("stellar_webhooks_send_duration_seconds_sum") > 0
    assert after.value("stellar_webhooks_deliveries_pending") == 0
    assert after.value("stellar_webhooks_oldest_pending_delivery_age_seconds") == 0
    assert abs(after.value("stellar_webhooks_last_delivery_timestamp_seconds") - time.time()) < 60
    # The scrape before this one is counted under its own route; no label holds an id.
    assert moved("stellar_webhooks_requests_total", method="GET", route="/metrics", code="200") >= 1
    for family in after.families.values():
        for sample in family.samples:
            for value in sample.labels.values():
                assert setup.owner not in value and setup.server not in value, sample
                assert not any(h["id"] in value for h in hooks), sample

    # The command prints the same families, for node_exporter's textfile collector.
    printed = svc.cli("metrics")
    cli = Metrics(printed.stdout)
    assert set(cli.families) == set(after.families)
    assert cli.value("stellar_webhooks_deliveries_finished_total", outcome="delivered") == \
        after.value("stellar_webhooks_deliveries_finished_total", outcome="delivered")


def test_a_failed_delivery_a_429_and_a_gone_webhook_are_counted(make_service, discord):
    setup = Setup(make_service, discord, retry_schedule="1")
    failing, failing_id = setup.hook()
    gone, gone_id = setup.hook()
    limited, limited_id = setup.hook()
    discord.set_always(failing_id, "400")
    discord.set_always(gone_id, "404")
    discord.set_fault(limited_id, "429")
    before = scrape(setup.svc)
    setup.emit("server.started")
    setup.finished(failing, 1, status="failed")
    setup.finished(gone, 1, status="failed")
    setup.finished(limited, 1, status="delivered")
    after = scrape(setup.svc)
    assert after.value("stellar_webhooks_deliveries_finished_total", outcome="failed") - \
        before.value("stellar_webhooks_deliveries_finished_total", outcome="failed") == 2
    assert after.value("stellar_webhooks_webhooks_disabled_total") - before.value("stellar_webhooks_webhooks_disabled_total") == 1
    assert after.value("stellar_webhooks_rate_limited_total", provider="discord", scope="webhook") - \
        before.value("stellar_webhooks_rate_limited_total", provider="discord", scope="webhook") == 1
    assert after.value("stellar_webhooks_last_failed_delivery_timestamp_seconds") > 0
    # A failed delivery is logged with why it failed.
    failed_lines = [line for line in setup.svc.serve_log.read_text().splitlines() if "delivery failed" in line]
    assert any(failing["id"] in line and "error=Discord answered 400" in line for line in failed_lines), failed_lines


def test_a_killed_worker_takes_nothing_away(make_service):
    svc = make_service(config={"workers": 3})
    _, key = svc.new_user()
    for _ in range(20):
        assert svc.request("GET", "/webhooks", key=key)[0] == 200
    before = scrape(svc)
    served = before.value("stellar_webhooks_requests_total", method="GET", route="/webhooks", code="200")
    assert served >= 20
    victim = sorted(svc.worker_pids())[0]
    os.kill(victim, signal.SIGKILL)
    wait_until(lambda: len(svc.worker_pids()) == 3 and victim not in svc.worker_pids(), 15,
               what="the killed worker's replacement")
    for _ in range(10):
        assert svc.request("GET", "/webhooks", key=key)[0] == 200
    # The dead worker's slot is free again, and its replacement takes one: three, not four.
    after = wait_until(lambda: (lambda m: m if m.value("stellar_webhooks_workers", state="idle")
                                + m.value("stellar_webhooks_workers", state="busy") == 3 else None)(scrape(svc)),
                       10, what="three workers on the scoreboard")
    assert after.value("stellar_webhooks_requests_total", method="GET", route="/webhooks", code="200") == served + 10
    assert after.value("stellar_webhooks_worker_restarts_total", cause="crashed") == \
        before.value("stellar_webhooks_worker_restarts_total", cause="crashed") + 1


def test_pending_deliveries_follow_a_stopped_helper(make_service, discord):
    setup = Setup(make_service, discord)
    svc = setup.svc
    hook, _ = setup.hook()
    [helper] = wait_until(svc.helper_pids, 10, what="the delivery helper")
    os.kill(helper, signal.SIGSTOP)
    try:
        setup.emit("server.started")
        setup.emit("server.started")
        first = scrape(svc)
        assert first.value("stellar_webhooks_deliveries_pending") == 2
        time.sleep(2.1)
        later = scrape(svc)
        assert later.value("stellar_webhooks_deliveries_pending") == 2
        age = later.value("stellar_webhooks_oldest_pending_delivery_age_seconds")
        assert age >= 2 and age > first.value("stellar_webhooks_oldest_pending_delivery_age_seconds"), age
        status = json.loads(svc.cli("status", "--json").stdout)
        assert status["deliveries"]["pending"] == 2 and status["deliveries"]["oldestPendingAgeSeconds"] >= 2, status
    finally:
        os.kill(helper, signal.SIGCONT)
    setup.finished(hook, 2, status="delivered")
    drained = scrape(svc)
    assert drained.value("stellar_webhooks_deliveries_pending") == 0
    assert drained.value("stellar_webhooks_oldest_pending_delivery_age_seconds") == 0


def test_a_global_rate_limit_shows_as_a_pause(make_service, discord):
    setup = Setup(make_service, discord)
    hook, discord_id = setup.hook()
    discord.set_fault(discord_id, ("429-global", 30))
    setup.emit("server.started")
    wait_until(lambda: scrape(setup.svc).value("stellar_webhooks_sends_paused", reason="discord_global") == 1, 15,
               what="the global pause on the metrics")
    metrics = scrape(setup.svc)
    assert metrics.value("stellar_webhooks_sends_paused", reason="cloudflare_ban") == 0
    assert metrics.value("stellar_webhooks_rate_limited_total", provider="discord", scope="global") == 1
    status = json.loads(setup.svc.cli("status", "--json").stdout)
    assert status["helper"]["state"] == "paused", status
    assert status["helper"]["pausedBecause"] == "discord_global", status
    assert status["helper"]["pausedUntil"], status
    text = setup.svc.cli("status").stdout
    assert "paused (Discord's global rate limit) until" in text, text


def test_metrics_answer_loopback_only_in_the_shipped_snippet(svc):
    """The snippet lets 127.0.0.1 and ::1 through; 127.0.0.2, loopback but not allowed, stands in
    for any other client and gets the JSON 403."""
    assert svc.request("GET", "/metrics")[0] == 200
    with socket.create_connection(("127.0.0.1", svc.port), source_address=("127.0.0.2", 0)) as conn:
        conn.sendall(b"GET /metrics HTTP/1.0\r\nHost: x\r\n\r\n")
        answer = b""
        while chunk := conn.recv(65536):
            answer += chunk
    head, _, body = answer.partition(b"\r\n\r\n")
    assert head.startswith(b"HTTP/1.1 403"), head
    assert json.loads(body) == {"error": "Forbidden"}


def test_status_says_what_runs_and_exits_as_lsb(make_service):
    svc = make_service(config={"workers": 3})
    _, key = svc.new_user()
    for _ in range(5):
        svc.request("GET", "/webhooks", key=key)
    result = svc.cli("status")
    assert result.returncode == 0
    text = result.stdout
    version = svc.cli("--version").stdout.strip()
    assert f"stellar-webhooks {version} is running" in text, text
    assert f"pid {svc.master_pid}" in text, text
    assert str(svc.socket) in text and "made by the master" in text, text
    assert "0 busy, 3 idle, 3 configured" in text, text
    [helper] = svc.helper_pids()
    assert f"pid {helper}, sending" in text, text

    report = json.loads(svc.cli("status", "--json").stdout)
    assert report["running"] is True and report["version"] == version
    assert report["master"]["pid"] == svc.master_pid and report["master"]["uptimeSeconds"] >= 0
    assert report["socket"] == {"address": str(svc.socket), "inherited": False}
    assert report["workers"] == {"busy": 0, "idle": 3, "configured": 3}
    assert report["requestsServed"] >= 5
    assert report["helper"]["pid"] == helper and report["helper"]["state"] == "sending"
    assert report["deliveries"]["pending"] == 0
    if "database_url" in svc.config:
        assert report["store"].startswith("PostgreSQL on ") and "database swh_" in report["store"], report
        assert "password" not in report["store"] and "postgresql://" not in report["store"]
    else:
        assert report["store"] == f"flat files in {svc.data_dir}"

    svc.stop()
    stopped = svc.cli("status", check=False)
    assert stopped.returncode == 3, stopped
    assert "not running" in stopped.stdout
    stopped_json = svc.cli("status", "--json", check=False)
    assert stopped_json.returncode == 3 and json.loads(stopped_json.stdout)["running"] is False
    assert svc.cli("metrics", check=False).returncode == 3


def test_status_of_a_store_nobody_started_is_not_running(tmp_path):
    from conftest import clean_env, run_binary
    conf = tmp_path / "c.conf"
    conf.write_text(f"data_dir = {tmp_path / 'data'}\n")
    result = run_binary(["status", "--config", str(conf)], env=clean_env())
    assert result.returncode == 3, result
    assert not (tmp_path / "data").exists(), "status must not make a store"
    bad = tmp_path / "bad.conf"
    bad.write_text("workers = many\n")
    assert run_binary(["status", "--config", str(bad)], env=clean_env()).returncode == 4


PROMTOOL = shutil.which("promtool")


@pytest.mark.skipif(PROMTOOL is None, reason="promtool (Debian's prometheus package; make test-system installs it) is not installed")
def test_metrics_pass_promtools_lint(make_service, discord):
    """Prometheus' own linter on what a service with some traffic exposes: naming conventions,
    units, `_total` on counters, help text."""
    setup = Setup(make_service, discord)
    hook, _ = setup.hook()
    setup.emit("server.started")
    setup.finished(hook, 1, status="delivered")
    status, _, text = setup.svc.request("GET", "/metrics")
    assert status == 200
    checked = subprocess.run([PROMTOOL, "check", "metrics"], input=text, capture_output=True, text=True, timeout=60)
    assert checked.returncode == 0 and not checked.stdout.strip() and not checked.stderr.strip(), \
        (checked.returncode, checked.stdout, checked.stderr)
