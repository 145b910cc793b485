"""X-Forwarded-Proto (and every X-Forwarded-* header) counts only from a trusted proxy.

With OVERT_BEHIND_TLS on, Django believes X-Forwarded-Proto: a client speaking plain HTTP
straight to overt could claim HTTPS, dodge the redirect to TLS and be handed Secure
cookies in the clear. From a proxy in OVERT_TRUSTED_PROXIES the header still counts.
"""

from __future__ import annotations

import pytest
from django.test import Client, override_settings

pytestmark = pytest.mark.django_db

BEHIND_TLS = {
    "SECURE_PROXY_SSL_HEADER": ("HTTP_X_FORWARDED_PROTO", "https"),
    "SECURE_SSL_REDIRECT": True,
}


def _get(peer: str) -> int:
    client = Client(REMOTE_ADDR=peer)
    return client.get("/login/", headers={"X-Forwarded-Proto": "https"}).status_code


@override_settings(**BEHIND_TLS)
def test_a_direct_client_cannot_claim_https(settings_env) -> None:
    settings_env(trusted_proxies="10.0.0.0/8")
    assert _get("203.0.113.9") == 301  # sent to https, as any plain-HTTP request is
    assert _get("127.0.0.1") == 301  # loopback is not trusted unless named


@override_settings(**BEHIND_TLS)
def test_a_trusted_proxy_may_say_the_client_used_https(settings_env) -> None:
    settings_env(trusted_proxies="10.0.0.0/8")
    assert _get("10.1.2.3") == 200
