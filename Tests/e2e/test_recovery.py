"""Bulk recovery (docs/architecture.md: "Recovery"): `POST /webhooks/{id}/recover` and
`stellar-webhooks recover` queue a webhook's failed deliveries of a range again, through the
normal queue, each once, at most 1,000 per call; end to end against the fake Discord, on both
stores."""

import uuid
from datetime import datetime, timedelta, timezone

from conftest import assert_error, detail_fields
from delivery_setup import Setup, get_delivery


def iso(moment):
    return moment.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"


def ago(**delta):
    return iso(datetime.now(timezone.utc) - timedelta(**delta))


def recover(svc, key, webhook_id, **body):
    return svc.request("POST", f"/webhooks/{webhook_id}/recover", key=key, body=body)


def failed_setup(make_service, discord, count):
    """A service, a webhook whose Discord refused `count` events (400: failed, not retried), and
    the fake then fixed: (setup, webhook, discord id, the failed deliveries oldest first)."""
    s = Setup(make_service, discord)
    w, did = s.hook()
    discord.set_always(did, ("status", 400))
    for n in range(count):
        s.emit(data={"n": n})
    failed = s.finished(w, count=count, status="failed")[::-1]
    assert [d["payload"]["data"]["n"] for d in failed] == list(range(count))
    discord.set_always(did, None)
    return s, w, did, failed


def test_recovery_resends_failed_deliveries_in_order_once(make_service, discord):
    s, w, did, failed = failed_setup(make_service, discord, 5)
    bodies = [r.body for r in discord.received(did)]
    # A manual retry already sent the second again: recovery leaves it alone.
    status, _, answer = s.svc.request("POST", f"/webhooks/{w['id']}/deliveries/{failed[1]['id']}/retry",
                                      key=s.key)
    assert status == 200 and answer["success"] is True, answer
    assert len(discord.received(did)) == 6

    status, _, answer = recover(s.svc, s.key, w["id"], since=ago(hours=1))
    assert (status, answer) == (202, {"queued": 4, "remaining": 0})
    resent = discord.wait_for(10, did)[6:]
    assert [r.body for r in resent] == [bodies[n] for n in (0, 2, 3, 4)], "the original order"
    assert all(r.status == 200 for r in resent)

    newest = s.finished(w, count=10)[:4][::-1]
    assert [d["retryOf"] for d in newest] == [failed[n]["id"] for n in (0, 2, 3, 4)]
    assert all(d["status"] == "delivered" for d in newest), newest
    for original in failed:
        assert get_delivery(s.svc, s.key, w["id"], original["id"]) == original, "originals stay as they were"

    status, _, answer = recover(s.svc, s.key, w["id"], since=ago(hours=1))
    assert (status, answer) == (202, {"queued": 0, "remaining": 0})
    assert s.svc.delivery_total(s.key, w["id"]) == 10
    assert len(discord.received(did)) == 10


def test_recovery_range_errors(svc):
    _, key = svc.new_user()
    _, other_key = svc.new_user()
    w = svc.create_webhook(key)
    theirs = svc.create_webhook(other_key)
    now = datetime.now(timezone.utc)
    cases = [
        ({}, "since"),
        ({"since": "2026-01-15T12:00:00Z"}, "since"),
        ({"since": "yesterday"}, "since"),
        ({"since": 1768478400}, "since"),
        ({"since": ago(days=31)}, "since"),  # retention_days is 30
        ({"since": iso(now + timedelta(hours=1))}, "since"),
        ({"since": ago(hours=1), "until": "not a time"}, "until"),
        ({"since": ago(hours=1), "until": ago(hours=2)}, "until"),
    ]
    for body, field in cases:
        status, _, answer = recover(svc, key, w["id"], **body)
        assert_error(status, answer, 400, "Validation failed")
        assert detail_fields(answer) == {field}, (body, answer)
    status, _, answer = svc.request("POST", f"/webhooks/{w['id']}/recover", key=key, raw="[]",
                                    headers={"Content-Type": "application/json"})
    assert (status, answer) == (400, {"error": "Invalid JSON body"})
    for webhook_id in (theirs["id"], str(uuid.uuid4()), "not-a-uuid"):
        status, _, answer = recover(svc, key, webhook_id, since=ago(hours=1))
        assert (status, answer) == (404, {"error": "Webhook not found"}), webhook_id


def test_a_disabled_webhook_is_recovered_once_enabled(make_service, discord):
    s, w, did, failed = failed_setup(make_service, discord, 1)
    status, _, _ = s.svc.request("PATCH", f"/webhooks/{w['id']}", key=s.key, body={"enabled": False})
    assert status == 200
    status, _, answer = recover(s.svc, s.key, w["id"], since=ago(hours=1))
    assert status == 409, answer
    assert answer["error"] == "Webhook is disabled" and "enabled" in answer["detail"], answer

    status, _, _ = s.svc.request("PATCH", f"/webhooks/{w['id']}", key=s.key, body={"enabled": True})
    assert status == 200
    status, _, answer = recover(s.svc, s.key, w["id"], since=ago(hours=1))
    assert (status, answer) == (202, {"queued": 1, "remaining": 0})
    assert discord.wait_for(2, did)[1].status == 200
    assert s.finished(w, count=2)[0]["retryOf"] == failed[0]["id"]


def test_at_most_a_thousand_per_call(make_service, discord):
    s, w, did, [first] = failed_setup(make_service, discord, 1)
    s.svc.copy_stored_delivery(s.owner, w["id"], first["id"], 1002)
    # Up to now, so the resends (made after) are never in the range, whatever becomes of them.
    body = {"since": ago(hours=1), "until": ago(seconds=0)}
    status, _, answer = recover(s.svc, s.key, w["id"], **body)
    assert (status, answer) == (202, {"queued": 1000, "remaining": 3})
    status, _, answer = recover(s.svc, s.key, w["id"], **body)
    assert (status, answer) == (202, {"queued": 3, "remaining": 0})
    status, _, answer = recover(s.svc, s.key, w["id"], **body)
    assert (status, answer) == (202, {"queued": 0, "remaining": 0})
    assert s.svc.delivery_total(s.key, w["id"]) == 2 * 1003


def test_recover_command(make_service, discord):
    s, w, did, failed = failed_setup(make_service, discord, 2)
    since = ago(hours=1)
    out = s.svc.cli("recover", w["id"], "--user", s.owner, "--since", since).stdout
    assert out.strip() == "queued 2 (0 remaining)"
    resent = discord.wait_for(4, did)[2:]  # the helper was woken
    assert [r.status for r in resent] == [200, 200]
    assert [d["retryOf"] for d in s.finished(w, count=4)[:2][::-1]] == [f["id"] for f in failed]
    out = s.svc.cli("recover", w["id"], "--user", s.owner, "--since", since, "--until", ago(seconds=0)).stdout
    assert out.strip() == "queued 0 (0 remaining)"

    bad = s.svc.cli("recover", w["id"], "--user", s.owner, "--since", ago(days=31), check=False)
    assert bad.returncode != 0 and "retention_days" in bad.stderr, bad
    bad = s.svc.cli("recover", w["id"], "--user", s.owner, "--since", since, "--until", ago(hours=2), check=False)
    assert bad.returncode != 0 and "until must not be before since" in bad.stderr, bad
    other = s.svc.cli("recover", w["id"], "--user", "someone-else", "--since", since, check=False)
    assert other.returncode == 1 and "no webhook" in other.stderr, other
    s.svc.request("PATCH", f"/webhooks/{w['id']}", key=s.key, body={"enabled": False})
    disabled = s.svc.cli("recover", w["id"], "--user", s.owner, "--since", since, check=False)
    assert disabled.returncode == 1 and "disabled" in disabled.stderr, disabled
    assert len(discord.received(did)) == 4
