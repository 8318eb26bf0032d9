"""Mentions by event end to end (issue 20, section 1; README "Mentions"), against the fake Discord
and the fake Slack: a webhook's `mentions` ping exactly their roles and users for their events
and no one else (the fakes work out whom a message pings as Discord and Slack would), PATCH
changes them, and every invalid entry is a 400 at its path."""

from conftest import detail_fields, fake_slack_config
from delivery_setup import Setup, new_discord_id
from discord_limits import pinged
from fake_slack import pinged as slack_pinged

ROLE, USER, OTHER = "223456789012345678", "323456789012345678", "423456789012345678"
# Event data naming everyone, a user and a role, in both providers' syntax: it must ping no one.
HOSTILE = f"@everyone @here <@{OTHER}> <@&{OTHER}> <!here> <!channel> <!subteam^S0HOSTILE>"
CRASH_PINGS = [{"events": ["SERVER_CRASHED"], "roles": [ROLE], "users": [USER]}]


def discord_hook(s, mentions=CRASH_PINGS):
    return s.hook(events=["server.started", "server.crashed"], mentions=mentions)


def paths(body):
    detail_fields(body)
    return [d["path"] for d in body["details"]]


def test_a_crash_pings_the_role_and_user_and_a_start_does_not(make_service, discord):
    s = Setup(make_service, discord, server_name=HOSTILE)
    w, did = discord_hook(s)
    assert w["mentions"] == [{"events": ["server.crashed"], "roles": [ROLE], "users": [USER]}]
    s.emit("server.started", {"reason": HOSTILE})
    discord.wait_for(1, did)
    s.emit("server.crashed", {"reason": HOSTILE})
    started, crashed = discord.wait_for(2, did)
    assert all(rec.status == 200 for rec in (started, crashed)), (started.body, crashed.body)

    assert "content" not in started.body
    assert started.body["allowed_mentions"] == {"parse": []}
    assert pinged(started.body) == ([], [], False)

    assert crashed.body["content"] == f"<@&{ROLE}> <@{USER}>"
    assert crashed.body["allowed_mentions"] == {"parse": [], "roles": [ROLE], "users": [USER]}
    assert pinged(crashed.body) == ([ROLE], [USER], False)
    # The data is in the embed as sent, where it pings no one.
    assert crashed.body["embeds"][0]["fields"][0]["value"] == HOSTILE
    assert [d["status"] for d in s.finished(w, count=2)] == ["delivered", "delivered"]


def test_patch_changes_whom_it_pings(make_service, discord):
    s = Setup(make_service, discord)
    w, did = discord_hook(s)
    status, _, body = s.svc.request("PATCH", f"/webhooks/{w['id']}", key=s.key, body={
        "mentions": [{"events": ["server.crashed", "server.started"], "users": [OTHER, OTHER]}]})
    assert status == 200, body
    assert body["mentions"] == [{"events": ["server.crashed", "server.started"], "roles": [],
                                 "users": [OTHER]}]
    assert s.webhook(w)["mentions"] == body["mentions"]
    s.emit("server.started")
    [rec] = discord.wait_for(1, did)
    assert rec.body["content"] == f"<@{OTHER}>"
    assert rec.body["allowed_mentions"] == {"parse": [], "roles": [], "users": [OTHER]}
    assert pinged(rec.body) == ([], [OTHER], False)

    status, _, body = s.svc.request("PATCH", f"/webhooks/{w['id']}", key=s.key, body={"mentions": []})
    assert status == 200 and "mentions" not in body, body
    assert "mentions" not in s.webhook(w)
    s.emit("server.crashed")
    _, again = discord.wait_for(2, did)
    assert "content" not in again.body and again.body["allowed_mentions"] == {"parse": []}
    assert pinged(again.body) == ([], [], False)


def test_slack_pings_the_user_group_and_the_user(make_service, slack):
    service = make_service(config=fake_slack_config(slack, retry_schedule="1,1"))
    owner, key = service.new_user()
    server = service.new_server(owner, name=HOSTILE)
    w = service.create_webhook(key, events=["server.started", "server.crashed"], url=slack.url(webhook="B0MENTIONS1"),
                               mentions=[{"events": ["server.crashed"], "roles": ["S0614TZR7"], "users": ["U024BE7LH"]}])
    skey = service.service_key("panel-mentions")
    for event in ("server.started", "server.crashed"):
        status, _, body = service.post_event(skey, event, server, data={"reason": HOSTILE})
        assert status == 202, body
        slack.wait_for(1 if event == "server.started" else 2, "B0MENTIONS1")
    started, crashed = slack.wait_for(2, "B0MENTIONS1")
    assert started.status == 200 and crashed.status == 200, (started.answer, crashed.answer)
    assert slack_pinged(started.body) == []
    line = "<!subteam^S0614TZR7> <@U024BE7LH>"
    assert crashed.body["text"].startswith(line + "\n🔔 Server Crashed\n"), crashed.body["text"]
    assert crashed.body["blocks"][1] == {"type": "section",
                                        "text": {"type": "mrkdwn", "text": line, "verbatim": True}}
    assert slack_pinged(crashed.body) == ["!subteam^S0614TZR7", "@U024BE7LH"]
    assert [d["status"] for d in service.wait_for_deliveries(key, w["id"], 2)] == ["delivered", "delivered"]


def test_invalid_mentions_are_400_at_their_paths(svc):
    _, key = svc.new_user()
    status, _, body = svc.request("POST", "/webhooks", key=key, body={
        "url": "https://discord.com/api/webhooks/123456789012345678/tok", "events": ["server.crashed"],
        "mentions": [{"events": ["server.crashed", "server.exploded"], "roles": [ROLE, "@everyone"],
                      "users": ["U024BE7LH"]}, {"events": ["server.crashed"]}]})
    assert status == 400, body
    assert paths(body) == [["mentions", 0, "events", 1], ["mentions", 0, "roles", 1],
                           ["mentions", 0, "users", 0], ["mentions", 1]]
    assert body["details"][1]["message"].startswith("Must be a Discord role id"), body

    status, _, body = svc.request("POST", "/webhooks", key=key, body={
        "url": "https://hooks.slack.com/services/T024BE7LD/B01ABCDEF12/abc", "events": ["server.crashed"],
        "mentions": [{"events": ["server.crashed"], "roles": [ROLE], "users": ["here"]}]})
    assert status == 400 and paths(body) == [["mentions", 0, "roles", 0], ["mentions", 0, "users", 0]], body

    status, _, body = svc.request("POST", "/webhooks", key=key, body={
        "url": "https://discord.com/api/webhooks/123456789012345678/tok", "events": ["server.crashed"],
        "mentions": [{"events": ["server.crashed"], "roles": [str(10 ** 17 + n) for n in range(11)]}]})
    assert status == 400 and paths(body) == [["mentions", 0, "roles"]], body


def test_http_webhooks_take_no_mentions(svc):
    _, key = svc.new_user()
    endpoint = {"url": "https://panel.example.com/hooks/stellar", "provider": "http"}
    status, _, body = svc.request("POST", "/webhooks", key=key, body={
        **endpoint, "events": ["server.crashed"], "mentions": CRASH_PINGS})
    assert status == 400 and paths(body) == [["mentions"]], body
    assert body["details"][0]["message"] == "mentions are for discord and slack webhooks"

    # A Discord webhook with mentions becomes http only when the PATCH drops them.
    w = svc.create_webhook(key, events=["server.crashed"], url=f"https://discord.com/api/webhooks/{new_discord_id()}/t",
                           mentions=CRASH_PINGS)
    status, _, body = svc.request("PATCH", f"/webhooks/{w['id']}", key=key, body=endpoint)
    assert status == 400 and paths(body) == [["mentions"]], body
    assert svc.webhook(key, w["id"])["provider"] == "discord"
    status, _, body = svc.request("PATCH", f"/webhooks/{w['id']}", key=key, body={**endpoint, "mentions": None})
    assert status == 200, body
    assert body["provider"] == "http" and "mentions" not in body and body["secret"].startswith("whsec_")
