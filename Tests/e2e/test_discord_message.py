"""The Discord message of a delivery and its record, end to end against the fake Discord
(docs/architecture.md: "A request", "A delivery", "Discord"): exact bodies, colours, the footer,
clipping, what is recorded."""

import json
import re

from conftest import ISO_RE
from fake_discord import FakeDiscord
from delivery_setup import GREEN, RED, YELLOW, BLUE, new_discord_id, Setup, field, assert_fake_accepted


# -- the Discord body (§4) ------------------------------------------------------------------------

def test_body_is_exactly_the_documented_embed(make_service, discord):
    s = Setup(make_service, discord, server_name="My MC @everyone")
    w, did = s.hook(events=["backup.created"], token="tok_EN-1")
    data = {"backupId": "b1", "sizeBytes": 1234, "compressed": True, "nested": {"x": 1},
            "list": [1, 2], "none": None}
    s.emit("backup.created", data)
    [rec] = discord.wait_for(1, did)
    [delivery] = s.finished(w, status="delivered")
    assert delivery["payload"]["data"] == data
    timestamp = delivery["payload"]["timestamp"]
    assert ISO_RE.match(timestamp), timestamp

    assert rec.method == "POST"
    assert rec.path == f"/api/v10/webhooks/{did}/tok_EN-1"
    assert rec.query == {"wait": "true"}
    assert rec.headers["content-type"].split(";")[0].strip().lower() == "application/json"
    assert rec.headers["user-agent"].startswith("DiscordBot ("), rec.headers["user-agent"]
    assert rec.body == {
        "embeds": [{
            "title": "🔔 Backup Created",
            "color": GREEN,
            "fields": [field("Server", "My MC @everyone"), field("Status", "RUNNING"),
                       field("Backup Id", "b1"), field("Compressed", "true"),
                       field("Size Bytes", "1234")],
            "timestamp": timestamp,
            "footer": {"text": "StellarStack"},
        }],
        "allowed_mentions": {"parse": []},
    }
    assert_fake_accepted(rec)


def test_thread_id_is_kept_in_the_query(make_service, discord):
    s = Setup(make_service, discord)
    did, thread = new_discord_id(), "112233445566778899"
    s.svc.create_webhook(s.key, url=discord.url(did, "tok", thread_id=thread))
    s.emit()
    [rec] = discord.wait_for(1, did)
    assert rec.path == f"/api/v10/webhooks/{did}/tok"
    assert rec.query == {"wait": "true", "thread_id": thread}
    assert_fake_accepted(rec)


COLOURS = [
    ("server.started", "🔔 Server Started", GREEN),
    ("server.crashed", "🔔 Server Crashed", RED),
    ("resource.warning", "🔔 Resource Warning", YELLOW),
    ("server.auto_shutdown", "🔔 Server Auto Shutdown", YELLOW),
    ("server.restarted", "🔔 Server Restarted", BLUE),
    ("transfer.completed", "🔔 Transfer Completed", GREEN),
    ("resource.critical", "🔔 Resource Critical", RED),
    ("file.modified", "🔔 File Modified", BLUE),
]


def test_title_and_colour_by_meaning(make_service, discord):
    s = Setup(make_service, discord)
    ids = {}
    for event, _, _ in COLOURS:
        _, ids[event] = s.hook(events=[event])
    for i, (event, _, _) in enumerate(COLOURS):
        if i % 2:  # the CLI and the HTTP API queue the same thing
            out = s.svc.cli("emit", event, "--server", s.server, "--data", '{"k":"v"}')
            assert re.search(r"\b1\b", out.stdout), out.stdout
        else:
            s.emit(event, {"k": "v"})
    for event, title, colour in COLOURS:
        [rec] = discord.wait_for(1, ids[event])
        embed = rec.body["embeds"][0]
        assert (embed["title"], embed["color"]) == (title, colour), event
        assert embed["fields"][2:] == [field("K", "v")], event
        assert_fake_accepted(rec)


def test_discord_footer_is_configurable(make_service, discord):
    s = Setup(make_service, discord, discord_footer="Acme Hosting")
    _, did = s.hook()
    s.emit()
    [rec] = discord.wait_for(1, did)
    assert rec.body["embeds"][0]["footer"] == {"text": "Acme Hosting"}
    assert_fake_accepted(rec)


def test_values_are_clipped_to_discords_limits(make_service, discord):
    s = Setup(make_service, discord, server_name="S" * 2000)
    long_hook, long_id = s.hook(events=["server.updated"])
    many_hook, many_id = s.hook(events=["backup.created"])
    total_hook, total_id = s.hook(events=["file.modified"])

    s.emit("server.updated", {"long": "x" * 3000, "empty": ""})
    many = {f"key{i:02d}": i for i in range(40)}
    s.emit("backup.created", many)
    s.emit("file.modified", {f"v{i}": chr(ord("a") + i) * 1000 for i in range(8)})

    [rec] = discord.wait_for(1, long_id)
    assert_fake_accepted(rec)
    fields = {f["name"]: f["value"] for f in rec.body["embeds"][0]["fields"]}
    assert list(fields) == ["Server", "Status", "Empty", "Long"]
    assert fields["Empty"] == "—"
    for name, letter in (("Server", "S"), ("Long", "x")):
        value = fields[name]
        assert len(value) <= 1024 and value.endswith("…"), (name, len(value), value[-5:])
        assert value[:-1] == letter * (len(value) - 1), name
    assert len(fields["Server"]) + len(fields["Long"]) > 1000  # clipped, not dropped

    [rec] = discord.wait_for(1, many_id)
    assert_fake_accepted(rec)
    names = [f["name"] for f in rec.body["embeds"][0]["fields"]]
    expected = ["Server", "Status"] + [f"Key{i:02d}" for i in range(40)]
    assert len(names) == 25, names
    assert names == expected[:25]

    [rec] = discord.wait_for(1, total_id)
    assert_fake_accepted(rec)
    embed = rec.body["embeds"][0]
    size = (len(embed["title"]) + len(embed["footer"]["text"])
            + sum(len(f["name"]) + len(f["value"]) for f in embed["fields"]))
    assert size <= 6000, size
    assert size > 5000  # clipped to the limit, not emptied

    for w in (long_hook, many_hook, total_hook):
        [d] = s.finished(w, status="delivered")
        assert d["statusCode"] == 200


# -- the delivery record (§3, §8) -----------------------------------------------------------------

def test_delivered_record(make_service, discord):
    s = Setup(make_service, discord)
    w, did = s.hook()
    s.emit()
    [rec] = discord.wait_for(1, did)
    [d] = s.finished(w)
    assert d["status"] == "delivered"
    assert d["statusCode"] == 200
    assert d["attempts"] == 1
    assert d["error"] is None and d["nextAttemptAt"] is None
    assert ISO_RE.match(d["deliveredAt"]) and d["deliveredAt"] >= d["createdAt"]
    # The fake's answer text, as sent: a compact JSON message with the id it made.
    answer = json.loads(d["response"])
    assert answer["id"] == rec.message_id and answer["webhook_id"] == did
    assert answer["embeds"] == rec.body["embeds"]
    assert d["response"] == json.dumps(answer, ensure_ascii=False, separators=(",", ":"))
    assert len(d["response"]) <= 5000


def test_response_is_cut_to_5000_characters(make_service, discord):
    s = Setup(make_service, discord)
    w, did = s.hook()
    s.emit(data={f"v{i}": "ü" * 1000 for i in range(5)})  # the answer echoes them: > 5000
    [rec] = discord.wait_for(1, did)
    assert_fake_accepted(rec)
    [d] = s.finished(w, status="delivered")
    # The answer up to and including its embeds, exactly as fake_discord.py writes it.
    head = {"id": rec.message_id, "type": 0, "content": "",
            "channel_id": FakeDiscord._channel_id(did),
            "author": {"bot": True, "id": did, "username": "Captain Hook", "avatar": None,
                       "discriminator": "0000"},
            "attachments": [], "embeds": rec.body["embeds"]}
    text = json.dumps(head, ensure_ascii=False, separators=(",", ":"))
    assert len(text) > 5001
    assert len(d["response"]) == 5000
    assert d["response"] == text[:5000]
