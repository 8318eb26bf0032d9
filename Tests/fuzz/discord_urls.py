"""Discord webhook URLs for the fuzzer: a reference of the service's rule (README, "A webhook URL
must be…"; Sources/WebhooksCore/Model/DiscordWebhookURL.swift), and Hypothesis strategies for
URLs that pass it and URLs that almost do.

    reference_valid(url, allowed_hosts, allow_insecure) -> bool
    webhook_urls(authority) -> strategy: ~3/4 valid URLs to `authority` (the fake Discord), the
                               rest one small mutation away (wrong id length, a bad token
                               character, another query, user info, a fragment, …)
"""

import string

from hypothesis import strategies as st

from url_origin import MAX_LENGTH, url_origin

TOKEN_CHARS = string.ascii_letters + string.digits + "_-"
LARGEST_SNOWFLAKE = 2 ** 64 - 1


def snowflake(text):
    """An id as Discord's OpenAPI document defines one: digits, no leading zero, at most 2^64 - 1."""
    return (bool(text) and all(c in string.digits for c in text) and (text == "0" or text[0] != "0")
            and int(text) <= LARGEST_SNOWFLAKE)


def reference_valid(url, allowed_hosts, allow_insecure):
    origin = url_origin(url, allowed_hosts, allow_insecure)
    if origin is None:
        return False
    rest = origin[2]
    path, sep, query = rest.partition("?")
    parts = path.split("/")[1:]
    if not parts or parts[0] != "api":
        return False
    parts = parts[1:]
    if parts and len(parts[0]) > 1 and parts[0][0] == "v" and all(c in string.digits for c in parts[0][1:]):
        parts = parts[1:]
    if len(parts) != 3 or parts[0] != "webhooks":
        return False
    if not (17 <= len(parts[1]) <= 20 and snowflake(parts[1])):
        return False
    if not parts[2] or not all(c in TOKEN_CHARS for c in parts[2]):
        return False
    if sep:
        if not query.startswith("thread_id="):
            return False
        thread = query[len("thread_id="):]
        if not snowflake(thread):
            return False
    return True


def _snowflakes(lo, hi):
    """Snowflakes of `lo` to `hi` digits."""
    return st.integers(10 ** (lo - 1) if lo > 1 else 0, min(10 ** hi - 1, LARGEST_SNOWFLAKE)).map(str)


@st.composite
def valid_urls(draw, authority, scheme="http"):
    """URLs the service accepts, in their many spellings."""
    scheme_text = draw(st.sampled_from([scheme, scheme.upper(), scheme.capitalize()]))
    host = draw(st.sampled_from([authority, authority.upper()]))
    version = draw(st.sampled_from(["", "/v10", "/v9", "/v6", "/v1234567"]))
    webhook_id = draw(_snowflakes(17, 20))
    token = draw(st.text(alphabet=TOKEN_CHARS, min_size=1, max_size=80))
    url = f"{scheme_text}://{host}/api{version}/webhooks/{webhook_id}/{token}"
    if draw(st.integers(0, 4)) == 0:
        # Discord takes 17-20 digit snowflakes; shorter ones pass the service's rule, and Discord
        # (the fake) refuses the send: a failed delivery, also worth exercising.
        url += "?thread_id=" + draw(st.one_of(_snowflakes(17, 20), _snowflakes(17, 20), _snowflakes(1, 20)))
    return url


MUTATIONS = [
    lambda u, d: u.replace("/webhooks/", "/webhook/", 1),
    lambda u, d: u.replace("/api/", "/API/", 1),
    lambda u, d: u.replace("/api/", "/api/v/", 1),
    lambda u, d: u.replace("/api/", "/api/vx1/", 1),
    lambda u, d: u.replace("/api/", "/api/v10/v10/", 1),
    lambda u, d: u.replace("/webhooks/", "/webhooks/1", 1) + "",         # id one longer
    lambda u, d: _retoken(u, lambda t: t + d.draw(st.sampled_from(list(".~%+=!$&'()*,;:")))),
    lambda u, d: _reid(u, lambda i: i[:16]),                              # 16 digits
    lambda u, d: _reid(u, lambda i: i + "0" * (21 - len(i))),             # 21 digits
    lambda u, d: _reid(u, lambda i: i[:-1] + "a"),
    lambda u, d: _reid(u, lambda i: "0" + i[1:]),                        # a leading zero
    lambda u, d: _reid(u, lambda i: str(LARGEST_SNOWFLAKE + 1)),          # past 2^64 - 1
    lambda u, d: _retoken(u, lambda t: ""),
    lambda u, d: u.split("?")[0] + "/",
    lambda u, d: u.split("?")[0] + "/extra",
    lambda u, d: u.split("?")[0] + "?wait=true",
    lambda u, d: u.split("?")[0] + "?thread_id=",
    lambda u, d: u.split("?")[0] + "?thread_id=12a",
    lambda u, d: u.split("?")[0] + "?thread_id=1&x=2",
    lambda u, d: u + "#frag",
    lambda u, d: u.replace("://", "://user@", 1),
    lambda u, d: u.replace("://", "://discord.com@", 1),
    lambda u, d: u.replace("://", ":/", 1),
    lambda u, d: "ftp" + u[u.index(":"):],
    lambda u, d: "https" + u[u.index(":"):],                               # scheme the fake lacks
    lambda u, d: u.replace("127.0.0.1", "127.0.0.2", 1),
    lambda u, d: u.replace("127.0.0.1", "localhost", 1),
    lambda u, d: u.replace(":" + u.split("/")[2].rsplit(":", 1)[-1], "", 1) if ":" in u.split("/")[2] else u + "x",
    lambda u, d: u.replace("/webhooks/", "//webhooks/", 1),
    lambda u, d: u.replace("/webhooks/", "/./webhooks/", 1),
    lambda u, d: u.replace("/webhooks/", "/%77ebhooks/", 1),
    lambda u, d: u.replace("/", "\\", 3),
    lambda u, d: " " + u,
    lambda u, d: u + " ",
    lambda u, d: u + "\u00e9",
    lambda u, d: u[:-1],
    lambda u, d: u + "x" * (MAX_LENGTH + 1 - len(u)),
    lambda u, d: u.split("/api")[0],
]


def _retoken(url, change):
    base, sep, query = url.partition("?")
    head, _, token = base.rpartition("/")
    return f"{head}/{change(token)}{sep}{query}"


def _reid(url, change):
    base, sep, query = url.partition("?")
    head, token = base.rsplit("/", 1)
    prefix, webhook_id = head.rsplit("/", 1)
    return f"{prefix}/{change(webhook_id)}/{token}{sep}{query}"


@st.composite
def near_valid_urls(draw, authority, scheme="http"):
    url = draw(valid_urls(authority, scheme))
    mutate = draw(st.sampled_from(MUTATIONS))

    class Drawer:
        pass

    drawer = Drawer()
    drawer.draw = draw
    return mutate(url, drawer)


def webhook_urls(authority, scheme="http"):
    """Mostly valid URLs to `authority`, and some one mutation away (which may still be valid:
    the reference decides, not the generator)."""
    return st.one_of(valid_urls(authority, scheme), valid_urls(authority, scheme),
                     valid_urls(authority, scheme), near_valid_urls(authority, scheme))
