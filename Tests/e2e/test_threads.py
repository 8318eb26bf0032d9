"""A forum thread per server end to end (issue 20, section 3; README "A thread per server"),
against the fake Discord's forum channels: the first message about a server makes a thread named
after it, later ones post to it, another server gets its own, a deleted thread is made again
within the same delivery, the test message has a thread of its own, PATCH off forgets the
threads, providers without forums refuse the option, and two hosts sharing PostgreSQL keep one
thread per server."""

import pytest

from conftest import detail_fields, fake_slack_config
from delivery_setup import Setup, new_discord_id
from test_hosts import Hosts

ANOTHER = "Creative"


def forum_hook(s):
    """A webhook with threadPerServer in a forum channel: (webhook, discord id)."""
    w, did = s.hook(events=["server.started", "server.crashed"], threadPerServer=True)
    assert w["threadPerServer"] is True and "threads" not in w, w
    s.discord.make_forum(did)
    return w, did


def test_each_server_has_its_thread_made_by_its_first_message(make_service, discord):
    s = Setup(make_service, discord, server_name="Survival")
    w, did = forum_hook(s)
    s.emit("server.started")
    [first] = discord.wait_for(1, did)
    assert first.status == 200, first.body
    assert first.body["thread_name"] == "Survival"
    assert "thread_id" not in first.query and first.query["wait"] == "true"
    [thread] = discord.threads(did)
    assert first.message_id == thread  # a forum post's thread has its first message's id

    s.emit("server.crashed")
    second = discord.wait_for(2, did)[1]
    assert second.status == 200, second.body
    assert second.query == {"wait": "true", "thread_id": thread}
    assert "thread_name" not in second.body
    assert discord.threads(did) == {thread: ("Survival", 2)}

    other = s.svc.new_server(s.owner, name=ANOTHER)
    status, _, body = s.svc.post_event(s.skey, "server.started", other)
    assert status == 202, body
    third = discord.wait_for(3, did)[2]
    assert third.body["thread_name"] == ANOTHER
    assert sorted(name for name, _ in discord.threads(did).values()) == ["Creative", "Survival"]

    deliveries = s.finished(w, count=3, status="delivered")
    assert sorted(d["threadId"] for d in deliveries) == sorted([thread, thread, third.message_id])
    assert all(d["attempts"] == 1 for d in deliveries)
    assert "threads" not in s.webhook(w)


@pytest.mark.postgres_only
def test_two_hosts_keep_one_thread_per_server(make_service, discord, tmp_path):
    """Events about one server through either host: one thread, made by the first message, and
    every later message in it (each host's helper reads the thread the other kept)."""
    hosts = Hosts(make_service, discord, tmp_path)
    owner, key = hosts.a.new_user()
    server = hosts.b.new_server(owner, name="Survival")
    did = new_discord_id()
    discord.make_forum(did)
    w = hosts.front.create_webhook(
        key, events=["server.started", "server.crashed"], url=discord.url(did), threadPerServer=True)
    skey = hosts.a.service_key("panel-threads")
    for n in range(8):
        status, _, body = (hosts.a, hosts.b)[n % 2].post_event(
            skey, ("server.started", "server.crashed")[n % 2], server)
        assert status == 202, body
    delivered = hosts.front.wait_for_deliveries(key, w["id"], 8, status="delivered", timeout=60)
    [(thread, (name, messages))] = discord.threads(did).items()
    assert (name, messages) == ("Survival", 8)
    received = discord.received(did)
    assert ["thread_name" in r.body for r in received] == [True] + [False] * 7
    assert all(r.query.get("thread_id") == thread for r in received[1:])
    assert {d["threadId"] for d in delivered} == {thread}


def test_a_deleted_thread_is_made_again_in_the_same_delivery(make_service, discord):
    s = Setup(make_service, discord, server_name="Survival")
    w, did = forum_hook(s)
    s.emit("server.started")
    discord.wait_for(1, did)
    s.finished(w, count=1, status="delivered")
    [old] = discord.threads(did)
    discord.delete_thread(old)

    s.emit("server.crashed")
    _, gone, remade = discord.wait_for(3, did)
    assert (gone.status, gone.query.get("thread_id")) == (404, old)
    assert remade.status == 200 and remade.body["thread_name"] == "Survival"
    [new] = discord.threads(did)
    crashed = next(d for d in s.finished(w, count=2, status="delivered") if d["event"] == "server.crashed")
    assert crashed["threadId"] == new != old
    assert crashed["attempts"] == 2 and crashed["error"] is None

    s.emit("server.started")  # the new thread is the one kept
    fourth = discord.wait_for(4, did)[3]
    assert fourth.query.get("thread_id") == new


def test_the_test_message_has_a_thread_of_its_own(make_service, discord):
    s = Setup(make_service, discord)
    w, did = forum_hook(s)
    for _ in range(2):
        status, _, body = s.svc.request("POST", f"/webhooks/{w['id']}/test", key=s.key)
        assert status == 200, body
    first, second = discord.wait_for(2, did)
    assert first.body["thread_name"] == "StellarStack"
    assert second.query.get("thread_id") == first.message_id
    s.emit("server.started")  # a server's messages are not the test's
    assert discord.wait_for(3, did)[2].body["thread_name"] == "My MC"


def test_patch_off_forgets_the_threads(make_service, discord):
    s = Setup(make_service, discord)
    w, did = forum_hook(s)
    s.emit("server.started")
    discord.wait_for(1, did)
    s.finished(w, count=1, status="delivered")
    status, _, body = s.svc.request("PATCH", f"/webhooks/{w['id']}", key=s.key, body={"threadPerServer": False})
    assert status == 200 and "threadPerServer" not in body, body
    status, _, body = s.svc.request("PATCH", f"/webhooks/{w['id']}", key=s.key, body={"threadPerServer": True})
    assert status == 200 and body["threadPerServer"] is True, body
    s.emit("server.started")
    second = discord.wait_for(2, did)[1]
    assert second.body["thread_name"] == "My MC" and "thread_id" not in second.query
    assert len(discord.threads(did)) == 2


def test_a_forum_needs_the_option(make_service, discord):
    """Discord refuses a message to a forum without a thread: the option is what makes it work."""
    s = Setup(make_service, discord)
    w, did = s.hook()
    discord.make_forum(did)
    s.emit("server.started")
    [rec] = discord.wait_for(1, did)
    assert rec.status == 400 and rec.fault is None
    [failed] = s.finished(w, count=1, status="failed")
    assert "220001" in failed["error"] and failed["threadId"] is None


def test_refused_where_there_are_no_forum_threads(make_service, discord, slack):
    s = Setup(make_service, discord, **fake_slack_config(slack))
    for fields in ({"url": slack.url()},
                   {"url": "https://panel.example.com/hook", "provider": "http"},
                   {"url": discord.url("123456789012345678", thread_id="223456789012345678")}):
        status, _, body = s.svc.request("POST", "/webhooks", key=s.key, body={
            "events": ["server.started"], "threadPerServer": True, **fields})
        assert status == 400 and detail_fields(body) == {"threadPerServer"}, (fields, body)
    status, _, body = s.svc.request("POST", "/webhooks", key=s.key, body={
        "url": discord.url("123456789012345678"), "events": ["server.started"], "threadPerServer": "yes"})
    assert status == 400 and detail_fields(body) == {"threadPerServer"}, body
    w, _ = forum_hook(s)
    status, _, body = s.svc.request("PATCH", f"/webhooks/{w['id']}", key=s.key, body={"url": slack.url()})
    assert status == 400 and detail_fields(body) == {"threadPerServer"}, body
