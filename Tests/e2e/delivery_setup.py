"""What the delivery tests share: fresh Discord webhook ids, a started service pointed at the
fake Discord with an owner, a server and a service key, and small helpers for bodies and timings.
"""

import itertools
import random
from datetime import datetime, timezone

from conftest import ISO_RE, fake_discord_config

GREEN, RED, YELLOW, BLUE = 65280, 16711680, 16776960, 39423

# Distinct 18-digit Discord webhook ids for the whole module (random base: runs differ too).
_discord_ids = itertools.count(random.randrange(10 ** 17, 9 * 10 ** 17, 10 ** 6))


def new_discord_id():
    return str(next(_discord_ids))


class Setup:
    """A started service sending to `discord`, a service key, an owner and one of its servers."""

    def __init__(self, make_service, discord, server_name="My MC", server_status="RUNNING",
                 **config):
        config.setdefault("retry_schedule", "1,1")
        self.discord = discord
        self.svc = make_service(config=fake_discord_config(discord, **config))
        self.skey = self.svc.service_key("panel-delivery")
        self.owner, self.key = self.svc.new_user()
        self.server = self.svc.new_server(self.owner, name=server_name, status=server_status)

    def hook(self, events=("server.started",), discord_id=None, token="tok_EN-1", **fields):
        """A webhook of the owner to a (fresh, unless given) Discord id: (webhook, discord_id)."""
        discord_id = discord_id or new_discord_id()
        w = self.svc.create_webhook(self.key, events=events,
                                    url=self.discord.url(discord_id, token), **fields)
        return w, discord_id

    def emit(self, event="server.started", data=None):
        status, _, body = self.svc.post_event(self.skey, event, self.server, data=data)
        assert status == 202, (status, body)
        return body

    def deliveries(self, webhook):
        return self.svc.deliveries(self.key, webhook["id"])

    def finished(self, webhook, count=1, status=None, timeout=15):
        return self.svc.wait_for_deliveries(self.key, webhook["id"], count, status=status,
                                            timeout=timeout)

    def webhook(self, webhook):
        return self.svc.webhook(self.key, webhook["id"])


def field(name, value):
    return {"name": name, "value": value, "inline": True}


def by_n(deliveries):
    return {d["payload"]["data"]["n"]: d for d in deliveries}


def parse_iso(text):
    assert ISO_RE.match(text), text
    return datetime.strptime(text, "%Y-%m-%dT%H:%M:%S.%fZ").replace(tzinfo=timezone.utc)


def max_in_window(times, width):
    """The most arrivals in any half-open window [t, t + width)."""
    times = sorted(times)
    best = 0
    for i, start in enumerate(times):
        best = max(best, sum(1 for t in times[i:] if t < start + width))
    return best


def assert_fake_accepted(rec):
    assert rec.status == 200, f"the fake refused the body with {rec.status}: {rec.body!r}"


def get_delivery(svc, key, webhook_id, delivery_id):
    """One delivery through the API (it must exist)."""
    status, _, body = svc.request("GET", f"/webhooks/{webhook_id}/deliveries/{delivery_id}",
                                  key=key)
    assert status == 200, (status, body)
    return body


def embed_field(body, name):
    """The value of the embed field `name` in a Discord body."""
    for f in body["embeds"][0].get("fields", []):
        if f["name"] == name:
            return f["value"]
    return None
