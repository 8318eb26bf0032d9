"""HTTPS endpoint URLs (provider `http`) for the fuzzer: a reference of the service's rule
(Sources/WebhooksCore/Model/EndpointURL.swift, docs/openapi.yaml `EndpointUrl`), and a
Hypothesis strategy for URLs that pass it and URLs that almost do.

    reference_valid(url, allow_insecure) -> bool   (literal private addresses are allowed only
                                                    with allow_insecure, as in the fuzz run)
    endpoint_urls(authority) -> strategy: mostly valid URLs to `authority`, some one mutation away
"""

import string

from hypothesis import strategies as st

from url_origin import MAX_LENGTH, url_origin


def reference_valid(url, allow_insecure):
    return url_origin(url, None, allow_insecure) is not None


PATH_CHARS = string.ascii_letters + string.digits + "-._~/%?=&"


@st.composite
def valid_urls(draw, authority, scheme="http"):
    path = draw(st.text(PATH_CHARS, max_size=40))
    return f"{scheme}://{authority}/{path}"


MUTATIONS = [
    lambda u: u.replace("://", "://user:pw@", 1),
    lambda u: u + "#frag",
    lambda u: u.replace("http", "ftp", 1),
    lambda u: " " + u,
    lambda u: u + "\u00e9",
    lambda u: u.replace("/", "\\", 3),
    lambda u: u + "x" * (MAX_LENGTH + 1 - len(u)),
    lambda u: u.split("://")[0] + ":///" + u.split("/", 3)[-1],
]


@st.composite
def near_valid_urls(draw, authority, scheme="http"):
    return draw(st.sampled_from(MUTATIONS))(draw(valid_urls(authority, scheme)))


def endpoint_urls(authority, scheme="http"):
    """Mostly valid URLs to `authority`, and some one mutation away (which may still be valid:
    the reference decides, not the generator)."""
    return st.one_of(valid_urls(authority, scheme), valid_urls(authority, scheme), near_valid_urls(authority, scheme))
