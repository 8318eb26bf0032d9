"""HTTPS endpoint URLs (provider `http`) for the fuzzer: a reference of the service's rule
(Sources/WebhooksCore/Model/EndpointURL.swift, docs/openapi.yaml `EndpointUrl`), and a
Hypothesis strategy for URLs that pass it and URLs that almost do.

    reference_valid(url, allow_insecure) -> bool   (literal private addresses are allowed only
                                                    with allow_insecure, as in the fuzz run)
    endpoint_urls(authority) -> strategy: mostly valid URLs to `authority`, some one mutation away
"""

import ipaddress
import string

from hypothesis import strategies as st

MAX_LENGTH = 2048
HOST_CHARS = set(string.ascii_lowercase + string.digits + ".-")


def _private_literal(host):
    try:
        address = ipaddress.ip_address(host.strip("[]"))
    except ValueError:
        return False
    return not address.is_global


def _authority_valid(authority):
    host, port = authority, None
    if authority.startswith("["):
        close = authority.find("]")
        if close < 0:
            return False
        host, rest = authority[:close + 1], authority[close + 1:]
        if rest and not rest.startswith(":"):
            return False
        port = rest[1:] if rest else None
        if not all(c in string.hexdigits + ":." for c in host[1:-1]):
            return False
    elif ":" in authority:
        host, port = authority.split(":", 1)
        if not host or host[0] in ".-" or not set(host) <= HOST_CHARS:
            return False
    elif not host or host[0] in ".-" or not set(host) <= HOST_CHARS:
        return False
    if port is not None and not (port.isdigit() and len(port) <= 5 and 1 <= int(port) <= 65535):
        return False
    return True


def reference_valid(url, allow_insecure):
    if not isinstance(url, str) or len(url.encode()) > MAX_LENGTH:
        return False
    if not all(0x20 < ord(c) < 0x7F and c != "\\" for c in url) or "#" in url:
        return False
    lower = url.lower()
    if lower.startswith("https://"):
        scheme = "https"
    elif allow_insecure and lower.startswith("http://"):
        scheme = "http"
    else:
        return False
    rest = url[len(scheme) + 3:]
    end = min([i for i in (rest.find("/"), rest.find("?")) if i >= 0], default=len(rest))
    authority = rest[:end].lower()
    if "@" in authority or not _authority_valid(authority):
        return False
    host = authority.rsplit(":", 1)[0] if not authority.startswith("[") else authority[:authority.find("]") + 1]
    return allow_insecure or not _private_literal(host)


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
