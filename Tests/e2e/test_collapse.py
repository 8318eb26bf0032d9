"""Crash loops collapsed end to end (issue 20, section 4; README "Crash loops collapsed"), against
the fake Discord's messages: three crashes within the window are one post then two edits of it
(×2, ×3, first and last time), recorded post / collapsed / collapsed with the same message; a
crash after the window posts again (the kept window's first time is moved into the past in the
store rather than waiting); another server and an event that does not collapse post as usual; a
deleted message is posted again with the count so far; a manual retry of a failed edit edits
again while a recovery posts; with threadPerServer the edits go to the message in its thread;
statusCardOnly refuses it, a move to Slack keeps it (Slack and http: test_collapse_summary.py)."""

import pytest

from conftest import detail_fields, fake_slack_config
from delivery_setup import Setup, new_discord_id
from test_hosts import Hosts

COLLAPSE = {"events": ["SERVER_CRASHED"], "windowSeconds": 600}


def collapse_hook(s, **fields):
    """A webhook collapsing crashes: (webhook, discord id)."""
    w, did = s.hook(events=["server.started", "server.crashed"], collapse=COLLAPSE, **fields)
    assert w["collapse"] == {"events": ["server.crashed"], "windowSeconds": 600}, w
    return w, did


def embed(body):
    [one] = body["embeds"]
    return one


def fields(body):
    return {f["name"]: f["value"] for f in embed(body)["fields"]}


def crash(s, count=1):
    for _ in range(count):
        s.emit("server.crashed", data={"exitCode": 137})


def test_repeats_within_the_window_edit_the_first_message(make_service, discord):
    s = Setup(make_service, discord)
    w, did = collapse_hook(s)
    crash(s, 3)
    posted, second, third = discord.wait_for(3, did)
    assert posted.method == "POST" and posted.status == 200 and posted.query == {"wait": "true"}
    assert embed(posted.body)["title"] == "🔔 Server Crashed"  # the first is sent as usual
    assert "First" not in fields(posted.body)
    for edit, count in ((second, 2), (third, 3)):
        assert edit.method == "PATCH" and edit.status == 200, edit.body
        assert edit.path.endswith(f"/messages/{posted.message_id}") and edit.query == {}
        assert embed(edit.body)["title"] == f"🔔 Server Crashed ×{count} in 10 min"
        shown = fields(edit.body)
        assert shown["First"].startswith("<t:") and shown["Last"].startswith("<t:"), shown
        assert shown["Server"] == "My MC" and shown["Exit Code"] == "137"
    assert list(discord.messages(did)) == [posted.message_id]
    assert embed(discord.messages(did)[posted.message_id])["title"] == "🔔 Server Crashed ×3 in 10 min"
    records = s.finished(w, count=3, status="delivered")[::-1]  # oldest first
    assert [d["action"] for d in records] == ["post", "collapsed", "collapsed"], records
    assert {d["messageId"] for d in records} == {posted.message_id}
    assert all(d["card"] is False for d in records)
    assert "windows" not in s.webhook(w)


def test_after_the_window_a_crash_posts_again(make_service, discord):
    s = Setup(make_service, discord)
    w, did = s.hook(events=["server.crashed"], collapse={"events": ["server.crashed"], "windowSeconds": 60})
    crash(s, 2)
    first, _ = discord.wait_for(2, did)
    s.finished(w, count=2, status="delivered")
    # The window opened a minute ago: moved in the store rather than waited for.
    s.svc.stop()

    def opened_long_ago(record):
        window = record["windows"][s.server]["server.crashed"]
        assert window["count"] == 2 and window["messageId"] == first.message_id, window
        window["first"] = "2020-01-01T00:00:00.000Z"

    s.svc.edit_stored_webhook(s.owner, w["id"], opened_long_ago)
    s.svc.start()
    crash(s, 2)
    _, _, again, edit = discord.wait_for(4, did)
    assert again.method == "POST" and embed(again.body)["title"] == "🔔 Server Crashed"
    assert edit.method == "PATCH" and edit.path.endswith(f"/messages/{again.message_id}")
    assert embed(edit.body)["title"] == "🔔 Server Crashed ×2 in 1 min"
    newest = s.finished(w, count=4, status="delivered")[:2]
    assert [(d["action"], d["messageId"]) for d in newest] == [
        ("collapsed", again.message_id), ("post", again.message_id)]


@pytest.mark.postgres_only
def test_two_hosts_edit_one_message(make_service, discord, tmp_path):
    """Crashes through either host: one message, posted once and then only edited, ending on the
    last count (each host's helper reads the window the other kept)."""
    hosts = Hosts(make_service, discord, tmp_path)
    owner, key = hosts.a.new_user()
    server = hosts.b.new_server(owner)
    did = new_discord_id()
    w = hosts.front.create_webhook(key, events=["server.crashed"], url=discord.url(did), collapse=COLLAPSE)
    skey = hosts.a.service_key("panel-collapse")
    for n in range(8):
        status, _, body = (hosts.a, hosts.b)[n % 2].post_event(skey, "server.crashed", server)
        assert status == 202, body
    records = hosts.front.wait_for_deliveries(key, w["id"], 8, status="delivered", timeout=60)
    [message] = discord.messages(did).values()
    assert embed(message)["title"] == "🔔 Server Crashed ×8 in 10 min"
    assert [r.method for r in discord.received(did)] == ["POST"] + ["PATCH"] * 7
    assert sorted(d["action"] for d in records) == ["collapsed"] * 7 + ["post"]


def test_other_servers_and_other_events_post_as_usual(make_service, discord):
    s = Setup(make_service, discord)
    w, did = collapse_hook(s)
    crash(s)
    other = s.svc.new_server(s.owner, name="Creative", status="CRASHED")
    status, _, body = s.svc.post_event(s.skey, "server.crashed", other)
    assert status == 202, body
    s.emit("server.started")
    s.emit("server.started")
    received = discord.wait_for(4, did)
    assert [r.method for r in received] == ["POST"] * 4
    assert [embed(r.body)["title"] for r in received] == [
        "🔔 Server Crashed", "🔔 Server Crashed", "🔔 Server Started", "🔔 Server Started"]
    records = s.finished(w, count=4, status="delivered")
    assert {d["action"] for d in records} == {"post"}
    crash(s)  # My MC's window is still open: this edits its first message
    edit = discord.wait_for(5, did)[4]
    assert edit.method == "PATCH" and edit.path.endswith(f"/messages/{received[0].message_id}")


def test_a_deleted_message_is_posted_again_with_the_count(make_service, discord):
    s = Setup(make_service, discord)
    w, did = collapse_hook(s)
    crash(s)
    [posted] = discord.wait_for(1, did)
    s.finished(w, count=1, status="delivered")
    discord.delete_message(posted.message_id)
    crash(s)
    _, gone, reposted = discord.wait_for(3, did)
    assert (gone.method, gone.status) == ("PATCH", 404)
    assert reposted.method == "POST" and embed(reposted.body)["title"] == "🔔 Server Crashed ×2 in 10 min"
    newest = s.finished(w, count=2, status="delivered")[0]
    assert (newest["action"], newest["messageId"], newest["attempts"]) == ("post", reposted.message_id, 2)
    crash(s)  # the new message is the one kept
    fourth = discord.wait_for(4, did)[3]
    assert fourth.method == "PATCH" and fourth.path.endswith(f"/messages/{reposted.message_id}")
    assert embed(fourth.body)["title"] == "🔔 Server Crashed ×3 in 10 min"


def test_a_manual_retry_edits_again_and_a_recovery_posts(make_service, discord):
    s = Setup(make_service, discord)
    w, did = collapse_hook(s)
    crash(s)
    [posted] = discord.wait_for(1, did)
    s.finished(w, count=1, status="delivered")
    discord.set_always(did, ("status", 400))
    crash(s)
    failed = s.finished(w, count=2)[0]
    assert (failed["status"], failed["action"]) == ("failed", "collapsed"), failed
    discord.set_always(did, None)
    status, _, answer = s.svc.request("POST", f"/webhooks/{w['id']}/deliveries/{failed['id']}/retry", key=s.key)
    assert status == 200 and answer["success"] is True, answer
    retried = discord.wait_for(3, did)[2]
    assert retried.method == "PATCH" and retried.path.endswith(f"/messages/{posted.message_id}")
    newest = s.finished(w, count=3)[0]
    assert (newest["action"], newest["messageId"], newest["retryOf"]) == (
        "collapsed", posted.message_id, failed["id"]), newest

    discord.set_always(did, ("status", 400))
    crash(s)
    lost = s.finished(w, count=4)[0]
    assert (lost["status"], lost["action"]) == ("failed", "collapsed"), lost
    discord.set_always(did, None)
    status, _, answer = s.svc.request("POST", f"/webhooks/{w['id']}/recover", key=s.key,
                                      body={"since": failed["createdAt"]})  # the retried one is not queued again
    assert (status, answer) == (202, {"queued": 1, "remaining": 0}), answer
    recovered = discord.wait_for(5, did)[4]
    assert recovered.method == "POST" and embed(recovered.body)["title"] == "🔔 Server Crashed"
    newest = s.finished(w, count=5)[0]
    assert (newest["action"], newest["retryOf"]) == ("post", lost["id"]), newest


def test_in_a_forum_the_edits_go_to_the_thread(make_service, discord):
    s = Setup(make_service, discord)
    w, did = collapse_hook(s, threadPerServer=True)
    discord.make_forum(did)
    crash(s, 2)
    posted, edit = discord.wait_for(2, did)
    assert posted.method == "POST" and posted.body["thread_name"] == "My MC"
    records = s.finished(w, count=2, status="delivered")
    thread = records[-1]["threadId"]
    assert thread
    assert edit.method == "PATCH" and edit.query == {"thread_id": thread}, edit.query
    assert edit.path.endswith(f"/messages/{posted.message_id}") and "thread_name" not in edit.body
    assert [d["action"] for d in records] == ["collapsed", "post"]


def test_refused_where_there_are_no_event_messages_and_kept_on_a_new_provider(make_service, discord, slack):
    s = Setup(make_service, discord, **fake_slack_config(slack))
    status, _, body = s.svc.request("POST", "/webhooks", key=s.key, body={
        "events": ["server.crashed"], "collapse": COLLAPSE,
        "url": discord.url("123456789012345678"), "statusCard": True, "statusCardOnly": True})
    assert status == 400 and detail_fields(body) == {"collapse"}, body
    status, _, body = s.svc.request("POST", "/webhooks", key=s.key, body={
        "url": discord.url("123456789012345678"), "events": ["server.crashed"],
        "collapse": {"events": ["server.crashed"], "windowSeconds": 59}})
    assert status == 400 and body["details"][0]["path"] == ["collapse", "windowSeconds"], body
    w, _ = collapse_hook(s)
    status, _, body = s.svc.request("PATCH", f"/webhooks/{w['id']}", key=s.key, body={"url": slack.url()})
    assert status == 200 and body["provider"] == "slack", body
    assert body["collapse"] == {"events": ["server.crashed"], "windowSeconds": 600}, body
    status, _, body = s.svc.request("PATCH", f"/webhooks/{w['id']}", key=s.key, body={"collapse": None})
    assert status == 200 and "collapse" not in body, body
