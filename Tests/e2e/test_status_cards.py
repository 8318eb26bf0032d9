"""A status card per server end to end (issue 20, section 2; README "A status card per server"),
against the fake Discord's messages: the first event about a server posts its card and later ones
edit it in place (PATCH …/messages/{id}), statusCardOnly sends the cards alone, a deleted card is
posted again within the same delivery and the new one kept, a burst of events ends with the card
on the last state (on one host, and on two sharing PostgreSQL), another server gets its own card,
a manual retry of a failed edit edits again while a recovery posts the event instead, and
providers that cannot edit refuse it."""

import pytest

from conftest import detail_fields, fake_slack_config
from delivery_setup import Setup, new_discord_id
from test_hosts import Hosts

EVENTS = ["server.started", "server.stopped", "server.crashed"]


def card_hook(s, **fields):
    """A webhook with a status card: (webhook, discord id)."""
    w, did = s.hook(events=EVENTS, statusCard=True, **fields)
    assert w["statusCard"] is True and "cards" not in w, w
    return w, did


def card_fields(body):
    """The card's fields by name."""
    [embed] = body["embeds"]
    return {f["name"]: f["value"] for f in embed["fields"]}


def emit_as(s, status, event):
    """Sets the server's status, then emits `event` about it."""
    s.svc.put_server(s.server, "My MC", s.owner, status)
    s.emit(event)


def cards(deliveries):
    return [d for d in deliveries if d["card"]]


def test_the_first_event_posts_the_card_and_the_next_edits_it(make_service, discord):
    s = Setup(make_service, discord)
    w, did = card_hook(s)
    s.emit("server.started")
    event, posted = discord.wait_for(2, did)
    assert event.body["embeds"][0]["title"] == "🔔 Server Started"  # the event message, as before
    assert posted.method == "POST" and posted.status == 200 and posted.query == {"wait": "true"}
    assert posted.body["embeds"][0]["title"] == "My MC"
    fields = card_fields(posted.body)
    assert fields["Status"] == "RUNNING" and fields["Since"].startswith("<t:")
    assert fields["Last events"].startswith("🔔 Server Started — <t:")
    assert posted.body["allowed_mentions"] == {"parse": []} and "content" not in posted.body
    [card] = cards(s.finished(w, count=2, status="delivered"))
    assert (card["action"], card["messageId"]) == ("post", posted.message_id)

    emit_as(s, "OFFLINE", "server.stopped")
    edit = discord.wait_for(4, did)[3]
    assert edit.method == "PATCH" and edit.status == 200, edit.body
    assert edit.path.endswith(f"/messages/{posted.message_id}") and edit.query == {}
    assert card_fields(edit.body)["Status"] == "OFFLINE"
    assert card_fields(edit.body)["Last events"].count("\n") == 1  # two events, newest first
    assert card_fields(discord.messages(did)[posted.message_id])["Status"] == "OFFLINE"
    edited = cards(s.finished(w, count=4, status="delivered"))[0]  # newest first
    assert (edited["action"], edited["messageId"], edited["attempts"]) == ("edit", posted.message_id, 1)
    events = [d for d in s.deliveries(w) if not d["card"]]
    assert all(d["action"] == "post" and d["messageId"] for d in events), events
    assert "cards" not in s.webhook(w)


def test_status_card_only_sends_no_event_messages(make_service, discord):
    s = Setup(make_service, discord)
    w, did = card_hook(s, statusCardOnly=True)
    assert w["statusCardOnly"] is True
    s.emit("server.started")
    emit_as(s, "OFFLINE", "server.stopped")
    s.finished(w, count=2, status="delivered")
    posted, edit = discord.received(did)
    assert [posted.method, edit.method] == ["POST", "PATCH"]
    assert all(r.body["embeds"][0]["title"] == "My MC" for r in (posted, edit))
    assert list(discord.messages(did)) == [posted.message_id]


def test_a_deleted_card_is_posted_again_and_kept(make_service, discord):
    s = Setup(make_service, discord)
    w, did = card_hook(s, statusCardOnly=True)
    s.emit("server.started")
    [posted] = discord.wait_for(1, did)
    s.finished(w, count=1, status="delivered")
    discord.delete_message(posted.message_id)

    emit_as(s, "OFFLINE", "server.stopped")
    _, gone, reposted = discord.wait_for(3, did)
    assert (gone.method, gone.status) == ("PATCH", 404)
    assert reposted.method == "POST" and reposted.status == 200
    fields = card_fields(reposted.body)
    assert fields["Status"] == "OFFLINE" and fields["Last events"].count("\n") == 1  # its history kept
    newest = s.finished(w, count=2, status="delivered")[0]
    assert (newest["action"], newest["messageId"], newest["attempts"]) == ("post", reposted.message_id, 2)
    assert newest["error"] is None and newest["statusCode"] == 200

    emit_as(s, "RUNNING", "server.started")  # the new card is the one kept
    fourth = discord.wait_for(4, did)[3]
    assert fourth.method == "PATCH" and fourth.path.endswith(f"/messages/{reposted.message_id}")


def test_a_burst_ends_with_the_card_on_the_last_state(make_service, discord):
    s = Setup(make_service, discord)
    w, did = card_hook(s, statusCardOnly=True)
    for n in range(10):
        emit_as(s, f"STATE-{n}", EVENTS[n % 3])
    s.finished(w, count=10, status="delivered", timeout=60)
    [card] = discord.messages(did).values()
    fields = card_fields(card)
    assert fields["Status"] == "STATE-9"
    lines = fields["Last events"].split("\n")
    assert len(lines) == 5 and lines[0].startswith("🔔 Server Started")  # event 9, newest first
    received = discord.received(did)
    assert [r.method for r in received] == ["POST"] + ["PATCH"] * 9
    assert discord.over_limit == 0  # edits kept the webhook's rate limit, as posts do


@pytest.mark.postgres_only
def test_two_hosts_keep_one_card_on_the_last_state(make_service, discord, tmp_path):
    """Events through either host: one card, posted once and then only edited, and it ends on
    the last event's state (each host's helper reads the card the other kept)."""
    hosts = Hosts(make_service, discord, tmp_path)
    owner, key = hosts.a.new_user()
    server = hosts.b.new_server(owner)
    did = new_discord_id()
    w = hosts.front.create_webhook(key, events=EVENTS, url=discord.url(did), statusCard=True, statusCardOnly=True)
    skey = hosts.a.service_key("panel-cards")
    for n in range(12):
        (hosts.a, hosts.b)[n % 2].put_server(server, "My MC", owner, f"STATE-{n}")
        status, _, body = (hosts.a, hosts.b)[n % 2].post_event(skey, EVENTS[n % 3], server)
        assert status == 202, body
    hosts.front.wait_for_deliveries(key, w["id"], 12, status="delivered", timeout=60)
    [card] = discord.messages(did).values()
    assert card_fields(card)["Status"] == "STATE-11"
    assert [r.method for r in discord.received(did)] == ["POST"] + ["PATCH"] * 11


def test_each_server_has_its_own_card(make_service, discord):
    s = Setup(make_service, discord)
    w, did = card_hook(s, statusCardOnly=True)
    s.emit("server.started")
    other = s.svc.new_server(s.owner, name="Creative", status="STARTING")
    status, _, body = s.svc.post_event(s.skey, "server.started", other)
    assert status == 202, body
    s.finished(w, count=2, status="delivered")
    titles = sorted(m["embeds"][0]["title"] for m in discord.messages(did).values())
    assert titles == ["Creative", "My MC"]
    assert [r.method for r in discord.received(did)] == ["POST", "POST"]


def test_a_manual_retry_edits_again_and_a_recovery_posts(make_service, discord):
    s = Setup(make_service, discord)
    w, did = card_hook(s, statusCardOnly=True)
    s.emit("server.started")
    [posted] = discord.wait_for(1, did)
    s.finished(w, count=1, status="delivered")

    discord.set_always(did, ("status", 400))
    emit_as(s, "OFFLINE", "server.stopped")
    failed = s.finished(w, count=2)[0]
    assert (failed["status"], failed["action"]) == ("failed", "edit"), failed
    discord.set_always(did, None)
    status, _, answer = s.svc.request("POST", f"/webhooks/{w['id']}/deliveries/{failed['id']}/retry", key=s.key)
    assert status == 200 and answer["success"] is True, answer
    retried = discord.wait_for(3, did)[2]
    assert retried.method == "PATCH" and retried.path.endswith(f"/messages/{posted.message_id}")
    assert card_fields(discord.messages(did)[posted.message_id])["Status"] == "OFFLINE"

    discord.set_always(did, ("status", 400))
    emit_as(s, "CRASHED", "server.crashed")
    crashed = s.finished(w, count=4)[0]
    assert crashed["status"] == "failed" and crashed["card"] is True, crashed
    discord.set_always(did, None)
    status, _, answer = s.svc.request("POST", f"/webhooks/{w['id']}/recover", key=s.key,
                                      body={"since": crashed["createdAt"]})
    assert (status, answer) == (202, {"queued": 1, "remaining": 0}), answer
    recovered = discord.wait_for(5, did)[4]
    assert recovered.method == "POST" and recovered.body["embeds"][0]["title"] == "🔔 Server Crashed"
    newest = s.finished(w, count=5)[0]
    assert (newest["card"], newest["action"], newest["retryOf"]) == (False, "post", crashed["id"]), newest
    assert card_fields(discord.messages(did)[posted.message_id])["Status"] == "OFFLINE"  # recovery leaves the card alone


def test_refused_where_messages_cannot_be_edited(make_service, discord, slack):
    s = Setup(make_service, discord, **fake_slack_config(slack))
    for fields in ({"url": slack.url()}, {"url": "https://panel.example.com/hook", "provider": "http"}):
        status, _, body = s.svc.request("POST", "/webhooks", key=s.key, body={
            "events": ["server.started"], "statusCard": True, **fields})
        assert status == 400 and detail_fields(body) == {"statusCard"}, (fields, body)
    url = discord.url("123456789012345678")
    for fields, refused in (({"statusCard": "yes"}, "statusCard"),
                            ({"statusCardOnly": True}, "statusCardOnly"),
                            ({"statusCard": True, "threadPerServer": True}, "statusCard")):
        status, _, body = s.svc.request("POST", "/webhooks", key=s.key, body={
            "url": url, "events": ["server.started"], **fields})
        assert status == 400 and detail_fields(body) == {refused}, (fields, body)
    w, _ = card_hook(s)
    status, _, body = s.svc.request("PATCH", f"/webhooks/{w['id']}", key=s.key, body={"url": slack.url()})
    assert status == 400 and detail_fields(body) == {"statusCard"}, body
    status, _, body = s.svc.request("PATCH", f"/webhooks/{w['id']}", key=s.key,
                                    body={"url": slack.url(), "statusCard": False})
    assert status == 200 and "statusCard" not in body, body
