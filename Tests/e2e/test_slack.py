"""Slack's incoming webhooks end to end, against the fake Slack (fake_slack.py; docs/architecture.md:
"Slack"): the provider inferred from the URL, the Block Kit message with user text escaped, the
answers (403/404/410 disable, 429 waits without a retry, 5xx retries), one message a second per
webhook, and the test message."""

import pytest

from conftest import DISCORD_URL, detail_fields, fake_slack_config

HOSTILE = "<!channel> <@U123> <https://evil|click> & @here"
ESCAPED = "&lt;!channel&gt; &lt;@U123&gt; &lt;https://evil|click&gt; &amp; @here"


class SlackSetup:
    """A started service sending Slack's webhooks to `slack`, a service key, an owner and a server."""

    def __init__(self, make_service, slack, server_name="My MC", **config):
        config.setdefault("retry_schedule", "1,1")
        self.slack = slack
        self.svc = make_service(config=fake_slack_config(slack, **config))
        self.skey = self.svc.service_key("panel-slack")
        self.owner, self.key = self.svc.new_user()
        self.server = self.svc.new_server(self.owner, name=server_name)

    def hook(self, webhook="B01ABCDEF12", events=("server.started",)):
        return self.svc.create_webhook(self.key, events=events, url=self.slack.url(webhook=webhook))

    def emit(self, event="server.started", data=None):
        status, _, body = self.svc.post_event(self.skey, event, self.server, data=data)
        assert status == 202, (status, body)
        return body

    def finished(self, webhook, count=1, timeout=15):
        return self.svc.wait_for_deliveries(self.key, webhook["id"], count, timeout=timeout)


# -- the provider -------------------------------------------------------------------------------

def test_a_slack_url_alone_makes_a_slack_webhook(svc):
    _, key = svc.new_user()
    url = "https://hooks.slack.com/services/T024BE7LD/B01ABCDEF12/abcDEF123xyz789"
    w = svc.create_webhook(key, url=url)
    assert w["provider"] == "slack" and w["url"] == url
    assert svc.webhook(key, w["id"])["provider"] == "slack"


def test_slack_named_for_a_discord_url_is_refused(svc):
    _, key = svc.new_user()
    status, _, body = svc.request("POST", "/webhooks", key=key, body={
        "url": DISCORD_URL, "events": ["server.started"], "provider": "slack"})
    assert status == 400, body
    assert detail_fields(body) == {"url"}
    assert "Slack incoming webhook URL" in body["details"][0]["message"], body


# -- the message ---------------------------------------------------------------------------------

def test_an_event_arrives_as_block_kit_with_user_text_escaped(make_service, slack):
    s = SlackSetup(make_service, slack, server_name=HOSTILE)
    w = s.hook()
    s.emit(data={"reason": HOSTILE, "players": 3})
    [got] = slack.wait_for(1, "B01ABCDEF12")
    assert got.status == 200, (got.answer, got.body)
    assert got.headers["content-type"] == "application/json"
    body = got.body
    blocks = body["blocks"]
    assert [b["type"] for b in blocks] == ["header", "section", "context"]
    assert blocks[0]["text"] == {"type": "plain_text", "text": "🔔 Server Started", "emoji": True}
    assert [f["text"] for f in blocks[1]["fields"]] == [
        f"*Server*\n{ESCAPED}", "*Status*\nRUNNING", "*Players*\n3", f"*Reason*\n{ESCAPED}"]
    assert all(f["type"] == "mrkdwn" and f["verbatim"] is True for f in blocks[1]["fields"])
    footer, time = blocks[2]["elements"]
    assert footer == {"type": "plain_text", "text": "StellarStack", "emoji": True}
    assert time["text"].startswith("<!date^") and time["verbatim"] is True
    assert body["text"].startswith("🔔 Server Started\nServer: " + ESCAPED)
    # No `<` Slack would read anywhere but the time; nothing asks Slack to link names.
    raw = got.body_bytes.decode()
    assert raw.count("<") == 1 and "link_names" not in raw, raw
    [d] = s.finished(w)
    assert (d["status"], d["statusCode"], d["response"], d["attempts"]) == ("delivered", 200, "ok", 1)


def test_the_test_endpoint_sends_slacks_test_message(make_service, slack):
    s = SlackSetup(make_service, slack)
    w = s.hook()
    status, _, body = s.svc.request("POST", f"/webhooks/{w['id']}/test", key=s.key)
    assert status == 200 and body["success"] is True and body["statusCode"] == 200, body
    [got] = slack.received("B01ABCDEF12")
    assert got.body["blocks"][0]["text"]["text"] == "🔔 Test"
    assert got.body["blocks"][1]["text"]["text"] == "Webhook connected"
    assert got.body["text"] == "🔔 Test\nWebhook connected"


# -- the answers ---------------------------------------------------------------------------------

@pytest.mark.parametrize("status, code", [(404, "channel_not_found"), (403, "invalid_token"),
                                          (410, "channel_is_archived")])
def test_a_webhook_slack_no_longer_takes_is_disabled(make_service, slack, status, code):
    s = SlackSetup(make_service, slack)
    w = s.hook()
    slack.set_fault("B01ABCDEF12", ("status", status, code))
    s.emit()
    [d] = s.finished(w)
    assert (d["status"], d["statusCode"], d["attempts"], d["response"]) == ("failed", status, 1, code)
    hook = s.svc.webhook(s.key, w["id"])
    assert hook["enabled"] is False
    assert f"Slack answered {status} {code}" in hook["disabledReason"], hook
    assert s.emit()["deliveries"] == 0  # events skip it now
    assert len(slack.received("B01ABCDEF12")) == 1


def test_a_bad_payload_answer_fails_without_retry_or_disabling(make_service, slack):
    s = SlackSetup(make_service, slack)
    w = s.hook()
    slack.set_fault("B01ABCDEF12", ("status", 400, "invalid_payload"))
    s.emit()
    [d] = s.finished(w)
    assert (d["status"], d["statusCode"], d["attempts"]) == ("failed", 400, 1)
    assert d["error"] == "Slack answered 400 invalid_payload"
    assert s.svc.webhook(s.key, w["id"])["enabled"] is True


def test_429_waits_retry_after_and_uses_no_retry(make_service, slack):
    # One retry on the schedule: the 500 after the 429 may use it only if the 429 did not.
    s = SlackSetup(make_service, slack, retry_schedule="1")
    w = s.hook()
    slack.set_fault("B01ABCDEF12", ("429", 2), ("status", 500, "rollup_error"))
    s.emit()
    got = slack.wait_for(3, "B01ABCDEF12", timeout=15)
    assert [r.status for r in got] == [429, 500, 200]
    assert slack.gaps("B01ABCDEF12")[0] >= 1.95, slack.gaps("B01ABCDEF12")
    [d] = s.finished(w)
    assert (d["status"], d["attempts"]) == ("delivered", 3)


def test_5xx_is_retried_on_the_schedule_then_fails(make_service, slack):
    s = SlackSetup(make_service, slack, retry_schedule="1,1")
    w = s.hook()
    slack.set_always("B01ABCDEF12", ("status", 500, "rollup_error"))
    s.emit()
    slack.wait_for(3, "B01ABCDEF12", timeout=15)
    [d] = s.finished(w)
    assert (d["status"], d["statusCode"], d["attempts"]) == ("failed", 500, 3)
    assert d["error"] == "Slack answered 500 rollup_error"
    gaps = slack.gaps("B01ABCDEF12")
    assert all(0.79 <= g <= 2.5 for g in gaps), gaps
    assert s.svc.webhook(s.key, w["id"])["enabled"] is True


# -- the rate ------------------------------------------------------------------------------------

def test_at_most_one_message_a_second_per_webhook(make_service, slack):
    s = SlackSetup(make_service, slack)
    w = s.hook("B01ABCDEF12")
    other = s.hook("B09ZYXWVU87")
    for n in range(5):
        s.emit(data={"n": n})
    slack.wait_for(5, "B01ABCDEF12", timeout=15)
    gaps = slack.gaps("B01ABCDEF12")
    assert len(gaps) == 4 and min(gaps) >= 0.95, gaps
    assert [r.body["text"].rsplit("N: ", 1)[1] for r in slack.received("B01ABCDEF12")] == list("01234")
    assert {d["status"] for d in s.finished(w, count=5)} == {"delivered"}
    # Another webhook of the same team has a second of its own: it is not held behind the first.
    slack.wait_for(5, "B09ZYXWVU87", timeout=15)
    firsts = [slack.received(b)[0].at for b in ("B01ABCDEF12", "B09ZYXWVU87")]
    assert abs(firsts[0] - firsts[1]) < 0.9, firsts
    assert len(s.finished(other, count=5)) == 5
