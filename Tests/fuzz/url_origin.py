"""The start every provider's webhook URL is checked by, for the fuzzer's references: a mirror of
Sources/WebhooksCore/Model/WebhookURLOrigin.swift. discord_urls, slack_urls and endpoint_urls
check the path and query after it.

    url_origin(url, allowed_hosts, allow_insecure) -> (scheme, authority, rest) or None
      allowed_hosts None: any well-formed host[:port] (an `http` endpoint), a literal private
      address refused unless allow_insecure
"""

import ipaddress
import string

MAX_LENGTH = 2048
HOST_CHARS = set(string.ascii_lowercase + string.digits + ".-")


def _port(text):
    return text.isdigit() and len(text) <= 5 and 1 <= int(text) <= 65535


def host_and_port(authority):
    """A host name or a bracketed IPv6 literal, and an optional port."""
    if authority.startswith("["):
        close = authority.find("]")
        if close < 0:
            return False
        port = authority[close + 1:]
        if port and not (port.startswith(":") and _port(port[1:])):
            return False
        return all(c in string.hexdigits + ":." for c in authority[1:close])
    host, colon, port = authority.partition(":")
    if colon and not _port(port):
        return False
    return bool(host) and host[0] not in ".-" and set(host) <= HOST_CHARS


def host_of(authority):
    if authority.startswith("[") and "]" in authority:
        return authority[:authority.index("]") + 1]
    return authority.split(":")[0]


def private_literal(host):
    try:
        return not ipaddress.ip_address(host.strip("[]")).is_global
    except ValueError:
        return False


def url_origin(url, allowed_hosts, allow_insecure):
    if not isinstance(url, str) or len(url.encode()) > MAX_LENGTH:
        return None
    if not all(0x20 < ord(c) < 0x7F and c != "\\" for c in url):
        return None
    lower = url.lower()
    if lower.startswith("https://"):
        scheme = "https"
    elif allow_insecure and lower.startswith("http://"):
        scheme = "http"
    else:
        return None
    rest = url[len(scheme) + 3:]
    if "#" in rest:
        return None
    cut = min([i for i in (rest.find("/"), rest.find("?")) if i >= 0], default=len(rest))
    authority = rest[:cut].lower()
    default_port = ":443" if scheme == "https" else ":80"
    if authority.endswith(default_port):
        authority = authority[:authority.rindex(":")]
    if "@" in authority:
        return None
    if allowed_hosts is None:
        if not host_and_port(authority):
            return None
    elif authority not in allowed_hosts:
        return None
    if not allow_insecure and private_literal(host_of(authority)):
        return None
    return scheme, authority, rest[cut:]
