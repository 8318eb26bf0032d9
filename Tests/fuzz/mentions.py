"""Webhook mentions for the fuzzer: a reference of the service's rule
(Sources/WebhooksCore/API/Handlers/MentionsInput.swift, docs/openapi.yaml `MentionsInput`), for
what the document cannot say: a snowflake over 2^64 - 1, and one event pinging more than 10
roles or users across entries.

    reference_valid(mentions, provider) -> bool: whether a webhook of `provider` ("discord",
    "slack", "http"; None when unknown: ids unchecked) may have these `mentions`
"""

from pathlib import Path

import yaml

from discord_urls import snowflake
from slack_urls import _slack_id

MAX_ENTRIES = 10
MAX_PER_EVENT = 10
DOCUMENT = Path(__file__).resolve().parents[2] / "docs" / "openapi.yaml"
EVENTS = set(yaml.safe_load(DOCUMENT.read_text())["components"]["schemas"]["EventName"]["enum"])


def canonical(name):
    if name in EVENTS:
        return name
    if isinstance(name, str) and name == name.upper() and "_" in name:
        category, _, rest = name.partition("_")
        dotted = category.lower() + "." + rest.lower()
        return dotted if dotted in EVENTS else None
    return None


def _ids(values, valid):
    if values is None:
        return []
    if not isinstance(values, list) or len(values) > MAX_PER_EVENT:
        return None
    if not all(isinstance(v, str) and valid(v) for v in values):
        return None
    return list(dict.fromkeys(values))


RULES = {
    "discord": (snowflake, snowflake),
    "slack": (lambda t: _slack_id(t, "S"), lambda t: _slack_id(t, "U") or _slack_id(t, "W")),
}


def reference_valid(mentions, provider):
    if mentions is None or mentions == []:
        return True
    if not isinstance(mentions, list) or len(mentions) > MAX_ENTRIES or provider == "http":
        return False
    is_role, is_user = RULES.get(provider, (lambda _: True, lambda _: True))
    pings = {}
    for entry in mentions:
        if not isinstance(entry, dict) or not isinstance(entry.get("events"), list) or not entry["events"]:
            return False
        events = [canonical(e) if isinstance(e, str) else None for e in entry["events"]]
        roles = _ids(entry.get("roles"), is_role)
        users = _ids(entry.get("users"), is_user)
        if None in events or roles is None or users is None or not (roles or users):
            return False
        for event in events:
            pinged = pings.setdefault(event, (set(), set()))
            pinged[0].update(roles)
            pinged[1].update(users)
    return all(len(r) <= MAX_PER_EVENT and len(u) <= MAX_PER_EVENT for r, u in pings.values())
