"""Forwarded headers count only when a trusted proxy sent them.

Django's SECURE_PROXY_SSL_HEADER (set when OVERT_BEHIND_TLS is on) believes
X-Forwarded-Proto from any peer, so a client talking plain HTTP straight to overt could
claim to be on HTTPS and receive Secure cookies over a clear channel. This middleware, run
before Django's own, removes every X-Forwarded-* header from requests whose peer is not
in OVERT_TRUSTED_PROXIES; the client-address rule (client_address.py) already ignores
X-Forwarded-For from such peers.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.http import HttpRequest, HttpResponse

from overt.conf import get_settings

from .client_address import _address, _networks, _trusted


def peer_is_trusted_proxy(meta: dict[str, Any]) -> bool:
    proxies = _networks(tuple(get_settings().trusted_proxies))
    return _trusted(_address(meta.get("REMOTE_ADDR", "")), proxies)


class UntrustedForwardedHeadersMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if not peer_is_trusted_proxy(request.META):
            for name in [key for key in request.META if key.startswith("HTTP_X_FORWARDED_")]:
                del request.META[name]
        return self.get_response(request)
