"""Slack incoming-webhook URLs for the fuzzer: a reference of the service's rule
(Sources/WebhooksCore/Model/SlackWebhookURL.swift, docs/openapi.yaml `SlackWebhookUrl`), and a
Hypothesis strategy for URLs that pass it and URLs that almost do.

    reference_valid(url, allowed_hosts, allow_insecure) -> bool
    slack_urls(authority) -> strategy: mostly valid URLs to `authority`, some one mutation away
"""

import string

from hypothesis import strategies as st

from url_origin import url_origin

ID_CHARS = string.ascii_uppercase + string.digits
LONGEST_PART = 64


def _slack_id(text, prefix):
    return 2 <= len(text) <= LONGEST_PART and text[0] == prefix and all(c in ID_CHARS for c in text)


def reference_valid(url, allowed_hosts, allow_insecure):
    origin = url_origin(url, allowed_hosts, allow_insecure)
    if origin is None or "?" in origin[2]:
        return False
    path = origin[2][1:]
    parts = path.split("/")
    return (len(parts) == 4 and parts[0] == "services" and _slack_id(parts[1], "T") and _slack_id(parts[2], "B")
            and 1 <= len(parts[3]) <= LONGEST_PART and all(c in string.ascii_letters + string.digits for c in parts[3]))


@st.composite
def valid_urls(draw, authority, scheme="http"):
    team = "T" + draw(st.text(ID_CHARS, min_size=1, max_size=12))
    hook = "B" + draw(st.text(ID_CHARS, min_size=1, max_size=12))
    secret = draw(st.text(string.ascii_letters + string.digits, min_size=1, max_size=30))
    return f"{scheme}://{authority}/services/{team}/{hook}/{secret}"


MUTATIONS = [
    lambda u: u + "?x=1",
    lambda u: u + "/",
    lambda u: u.replace("/services/T", "/services/t", 1),
    lambda u: u.replace("/services/", "/service/", 1),
    lambda u: u.replace("://", "://user@", 1),
    lambda u: u + "-",
    lambda u: u + "#f",
]


@st.composite
def near_valid_urls(draw, authority, scheme="http"):
    return draw(st.sampled_from(MUTATIONS))(draw(valid_urls(authority, scheme)))


def slack_urls(authority, scheme="http"):
    """Mostly valid URLs to `authority`, and some one mutation away (the reference decides)."""
    return st.one_of(valid_urls(authority, scheme), valid_urls(authority, scheme), near_valid_urls(authority, scheme))
