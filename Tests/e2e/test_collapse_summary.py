"""Crash loops collapsed on Slack and http end to end (issue 20, section 4; README "Crash loops
collapsed"): the first crash posts at once, the repeats within the window send nothing until it
ends, then one summary ("×N in 1 min", first and last time; for http the event's type with
data.collapsed, verified with `standardwebhooks`) carries them, and every repeat's record is
delivered, `collapsed`, naming the summary's message (the carrier's delivery id, which is the
summary's webhook-id). A crash after the window posts again. A 60 s window is made to end within
seconds by moving the kept window's first time into the past in the store (service stopped), as
test_collapse.py does, rather than waiting a minute."""

import random
import string
import time
from datetime import datetime, timedelta, timezone

import pytest

from conftest import fake_slack_config
from fake_receiver import FakeReceiver
from test_hosts import Hosts

WINDOW = {"events": ["server.crashed"], "windowSeconds": 60}
# How far back the first crash is moved: the window then ends 6 s later, time for a restart
# and the repeats to be counted while it is still open.
MOVED_BACK = 54


def slack_webhook_id():
    return "B" + "".join(random.choices(string.ascii_uppercase + string.digits, k=10))


def iso(moment):
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"


class Owner:
    """A started service, a user with a server, and the service key that emits its events."""

    def __init__(self, svc):
        self.svc = svc
        self.skey = svc.service_key("panel-summary")
        self.user, self.key = svc.new_user()
        self.server = svc.new_server(self.user, name="My MC", status="CRASHED")

    def crash(self, count=1):
        for _ in range(count):
            status, _, body = self.svc.post_event(self.skey, "server.crashed", self.server, data={"exitCode": 137})
            assert status == 202, body

    def records(self, w, count, timeout=40):
        """The webhook's deliveries once `count` are delivered, oldest first."""
        return self.svc.wait_for_deliveries(self.key, w["id"], count, status="delivered", timeout=timeout)[::-1]

    def open_window_long_ago(self, w, svc=None):
        """Moves the window the first crash opened MOVED_BACK seconds into the past."""
        def moved(record):
            window = record["windows"][self.server]["server.crashed"]
            assert window["count"] == 1 and window["messageId"], window
            window["first"] = iso(datetime.now(timezone.utc) - timedelta(seconds=MOVED_BACK))

        self.svc.stop()
        self.svc.edit_stored_webhook(self.user, w["id"], moved)
        self.svc.start()


def assert_collapsed_into_one_summary(records, repeats):
    """One post, then `repeats` records delivered as collapsed, each naming the first repeat's
    delivery (the summary's carrier); only the carrier made a request."""
    post, *held = records
    assert (post["action"], post["messageId"], post["attempts"]) == ("post", post["id"], 1), post
    assert len(held) == repeats and all(d["action"] == "collapsed" for d in held), held
    carrier = held[0]
    assert {d["messageId"] for d in held} == {carrier["id"]}, held
    assert [d["attempts"] for d in held[1:]] == [0] * (repeats - 1), held
    return carrier


def test_slack_repeats_become_one_summary(make_service, slack):
    owner = Owner(make_service(config=fake_slack_config(slack, retry_schedule="1,1")))
    hook = slack_webhook_id()
    w = owner.svc.create_webhook(owner.key, events=["server.crashed"], url=slack.url(webhook=hook), collapse=WINDOW)
    assert w["collapse"] == WINDOW, w
    owner.crash()
    [posted] = slack.wait_for(1, hook)
    assert posted.body["blocks"][0]["text"]["text"] == "🔔 Server Crashed"
    owner.records(w, 1)
    owner.open_window_long_ago(w)
    owner.crash(3)
    _, summary = slack.wait_for(2, hook, timeout=30)
    assert summary.body["blocks"][0]["text"]["text"] == "🔔 Server Crashed ×4 in 1 min", summary.body
    text = summary.body["text"]
    assert "First: " in text and "Last: " in text and "Exit Code: 137" in text, text
    carrier = assert_collapsed_into_one_summary(owner.records(w, 4), repeats=3)
    assert carrier["attempts"] == 1, carrier
    assert len(slack.received(hook)) == 2
    # The window has ended: the next crash posts on its own.
    owner.crash()
    third = slack.wait_for(3, hook, timeout=15)[2]
    assert third.body["blocks"][0]["text"]["text"] == "🔔 Server Crashed"
    assert owner.records(w, 5)[-1]["action"] == "post"


def test_http_repeats_become_one_signed_summary_retried_on_the_schedule(make_service):
    receiver = FakeReceiver().start()
    try:
        owner = Owner(make_service(config={"allow_insecure_targets": "true", "retry_schedule": "1,1"}))
        path = f"/hooks/summary-{random.randrange(10 ** 9)}"
        status, _, w = owner.svc.request("POST", "/webhooks", key=owner.key, body={
            "url": receiver.url(path), "events": ["server.crashed"], "provider": "http", "collapse": WINDOW})
        assert status == 201 and w["collapse"] == WINDOW, w
        receiver.expect_secrets(path, [w["secret"]])
        owner.crash()
        [posted] = receiver.wait_for(1, path)
        assert posted.verified is True and posted.body["type"] == "server.crashed"
        assert "collapsed" not in posted.body["data"], posted.body
        owner.records(w, 1)
        owner.open_window_long_ago(w)
        receiver.set_fault(path, ("status", 500))  # the summary's first attempt fails
        owner.crash(2)
        _, failed, summary = receiver.wait_for(3, path, timeout=30)
        assert failed.status == 500 and summary.status == 200
        assert summary.verified is True, summary.checks
        assert summary.headers["webhook-id"] == failed.headers["webhook-id"]
        body = summary.body
        assert body["type"] == "server.crashed" and body["data"]["server"]["name"] == "My MC", body
        collapsed = body["data"]["collapsed"]
        assert collapsed["count"] == 3 and collapsed["windowSeconds"] == 60, collapsed
        assert collapsed["first"] < collapsed["last"] == body["timestamp"], collapsed
        records = owner.records(w, 3)
        carrier = assert_collapsed_into_one_summary(records, repeats=2)
        assert carrier["attempts"] == 2 and summary.headers["webhook-id"] == carrier["id"], carrier
        assert records[0]["messageId"] == posted.headers["webhook-id"]
        assert len(receiver.received(path)) == 3
    finally:
        receiver.stop()


@pytest.mark.postgres_only
def test_two_hosts_send_one_summary(make_service, discord, slack, tmp_path):
    """Crashes through either host: one post, then one summary for the repeats (each host's
    helper counts in the window the other kept)."""
    hosts = Hosts(make_service, discord, tmp_path, slack_hosts=slack.authority)
    owner, key = hosts.a.new_user()
    server = hosts.b.new_server(owner)
    hook = slack_webhook_id()
    w = hosts.front.create_webhook(key, events=["server.crashed"], url=slack.url(webhook=hook), collapse=WINDOW)
    skey = hosts.a.service_key("panel-summary")

    def crash(host):
        status, _, body = host.post_event(skey, "server.crashed", server)
        assert status == 202, body

    crash(hosts.a)
    slack.wait_for(1, hook)
    hosts.front.wait_for_deliveries(key, w["id"], 1, status="delivered")

    def moved(record):
        record["windows"][server]["server.crashed"]["first"] = iso(
            datetime.now(timezone.utc) - timedelta(seconds=MOVED_BACK))

    hosts.a.edit_stored_webhook(owner, w["id"], moved)  # one database: both hosts read it
    for n in range(6):
        crash((hosts.a, hosts.b)[n % 2])
    _, summary = slack.wait_for(2, hook, timeout=30)
    assert summary.body["blocks"][0]["text"]["text"] == "🔔 Server Crashed ×7 in 1 min", summary.body
    records = hosts.front.wait_for_deliveries(key, w["id"], 7, status="delivered", timeout=40)[::-1]
    assert_collapsed_into_one_summary(records, repeats=6)
    time.sleep(1)  # a second summary would have been sent by now
    assert len(slack.received(hook)) == 2
