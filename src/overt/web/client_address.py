"""Which address a request came from: the one rule for custody entries and login limits.

The peer address (REMOTE_ADDR) is the client unless the peer is one of the proxies named
in OVERT_TRUSTED_PROXIES. Only then is X-Forwarded-For read, from the right: each trusted
proxy appends the address it was called from, so the rightmost address that is not a
trusted proxy is the client. Anything to its left was written by the client itself and is
never believed.
"""

from __future__ import annotations

import ipaddress
from functools import lru_cache
from typing import Any

from django.http import HttpRequest

from overt.conf import IPNetwork, get_settings, parse_networks
from overt.custody.services import Client

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address


def _address(text: str) -> IPAddress | None:
    """An address as proxies write it ('203.0.113.9', '[2001:db8::1]:443', '1.2.3.4:80')."""
    text = text.strip().strip('"')
    if text.startswith("["):  # [v6] or [v6]:port
        text = text[1 : text.find("]")] if "]" in text else ""
    elif text.count(":") == 1:  # v4:port
        text = text.split(":", 1)[0]
    try:
        address = ipaddress.ip_address(text)
    except ValueError:
        return None
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        return address.ipv4_mapped
    return address


def _trusted(address: IPAddress | None, proxies: tuple[IPNetwork, ...]) -> bool:
    return address is not None and any(address in network for network in proxies)


def resolve(remote_addr: str, forwarded_for: str, proxies: tuple[IPNetwork, ...]) -> str:
    """The client address of a request from `remote_addr` carrying `forwarded_for`."""
    peer = _address(remote_addr)
    if not forwarded_for or not _trusted(peer, proxies):
        return remote_addr
    client = peer
    for hop in reversed(forwarded_for.split(",")):
        address = _address(hop)
        if address is None:  # garbage left of a trusted proxy: stop at the last known hop
            break
        client = address
        if not _trusted(address, proxies):
            break
    return str(client)


@lru_cache(maxsize=8)
def _networks(values: tuple[str, ...]) -> tuple[IPNetwork, ...]:
    return parse_networks(values)


def client_address(meta: dict[str, Any]) -> str:
    """The client address of a Django request, from its META, under the current settings."""
    proxies = _networks(tuple(get_settings().trusted_proxies))
    return resolve(meta.get("REMOTE_ADDR", ""), meta.get("HTTP_X_FORWARDED_FOR", ""), proxies)


def client_of(request: HttpRequest) -> Client:
    """Who is asking, for custody entries and login limits: the address and the browser."""
    return Client(
        address=client_address(request.META),
        user_agent=request.META.get("HTTP_USER_AGENT", "")[:500],
    )
