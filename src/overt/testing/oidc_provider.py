"""A small, real OpenID Connect provider for tests, on loopback.

Standard library HTTP server plus `cryptography` for RS256: the authorization code flow
with PKCE (S256), a token endpoint that checks the client secret, code, redirect URI and
verifier, a userinfo endpoint and a JWKS. Whoever `login_as` names is signed in at the
authorization endpoint without a form (the provider's own login is not under test).
`mode` makes it misbehave: "wrong-audience", "wrong-key", "no-exp", "expired".
"""

from __future__ import annotations

import base64
import hashlib
import json
import secrets
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding, rsa


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def _uint(n: int) -> str:
    return _b64(n.to_bytes((n.bit_length() + 7) // 8, "big"))


class Provider:
    def __init__(self, client_id: str = "overt", client_secret: str = "s3cret") -> None:
        self.client_id = client_id
        self.client_secret = client_secret
        self.key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        self.other_key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        self.kid = "test-key-1"
        self.login_as: dict[str, Any] = {}
        self.mode = ""
        self.codes: dict[str, dict[str, Any]] = {}
        self.tokens: dict[str, dict[str, Any]] = {}
        self.requests: list[str] = []
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        host, port = self.server.server_address[:2]
        assert isinstance(host, str)  # an IPv4 address, bound in __init__
        return f"http://{host}:{port}"

    def settings(self) -> dict[str, str]:
        """Django settings pointing mozilla-django-oidc here."""
        return {
            "OIDC_RP_CLIENT_ID": self.client_id,
            "OIDC_RP_CLIENT_SECRET": self.client_secret,
            "OIDC_OP_AUTHORIZATION_ENDPOINT": f"{self.url}/authorize",
            "OIDC_OP_TOKEN_ENDPOINT": f"{self.url}/token",
            "OIDC_OP_USER_ENDPOINT": f"{self.url}/userinfo",
            "OIDC_OP_JWKS_ENDPOINT": f"{self.url}/jwks",
        }

    def __enter__(self) -> Provider:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.shutdown()
        self.server.server_close()
        self.thread.join(timeout=10)

    # --- tokens -------------------------------------------------------------------------

    def jwks(self) -> dict[str, Any]:
        numbers = self.key.public_key().public_numbers()
        return {
            "keys": [
                {
                    "kty": "RSA",
                    "kid": self.kid,
                    "use": "sig",
                    "alg": "RS256",
                    "n": _uint(numbers.n),
                    "e": _uint(numbers.e),
                }
            ]
        }

    def id_token(self, claims: dict[str, Any], nonce: str) -> str:
        now = int(time.time())
        payload = {
            "iss": self.url,
            "aud": "someone-else" if self.mode == "wrong-audience" else self.client_id,
            "iat": now,
            "exp": now - 60 if self.mode == "expired" else now + 300,
            "nonce": nonce,
            **claims,
        }
        if self.mode == "no-exp":
            del payload["exp"]
        header = {"alg": "RS256", "typ": "JWT", "kid": self.kid}
        signing_input = (
            _b64(json.dumps(header).encode()) + "." + _b64(json.dumps(payload).encode())
        ).encode("ascii")
        key = self.other_key if self.mode == "wrong-key" else self.key
        signature = key.sign(signing_input, padding.PKCS1v15(), hashes.SHA256())
        return signing_input.decode("ascii") + "." + _b64(signature)

    # --- HTTP ---------------------------------------------------------------------------

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        provider = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: object) -> None:
                pass

            def _json(self, status: int, body: dict[str, Any]) -> None:
                data = json.dumps(body).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def do_GET(self) -> None:
                parts = urlsplit(self.path)
                provider.requests.append(f"GET {parts.path}")
                query = {k: v[0] for k, v in parse_qs(parts.query).items()}
                if parts.path == "/authorize":
                    self._authorize(query)
                elif parts.path == "/jwks":
                    self._json(200, provider.jwks())
                elif parts.path == "/userinfo":
                    auth = self.headers.get("Authorization", "")
                    token = provider.tokens.get(auth.removeprefix("Bearer "))
                    if token is None:
                        self._json(401, {"error": "invalid_token"})
                    else:
                        self._json(200, token)
                else:
                    self._json(404, {"error": "not_found"})

            def _authorize(self, query: dict[str, str]) -> None:
                if query.get("client_id") != provider.client_id or not provider.login_as:
                    target = f"{query.get('redirect_uri')}?" + urlencode(
                        {"error": "access_denied", "state": query.get("state", "")}
                    )
                else:
                    code = secrets.token_urlsafe(16)
                    provider.codes[code] = {
                        "claims": dict(provider.login_as),
                        "nonce": query.get("nonce", ""),
                        "redirect_uri": query.get("redirect_uri"),
                        "challenge": query.get("code_challenge"),
                    }
                    target = f"{query['redirect_uri']}?" + urlencode(
                        {"code": code, "state": query.get("state", "")}
                    )
                self.send_response(302)
                self.send_header("Location", target)
                self.end_headers()

            def do_POST(self) -> None:
                provider.requests.append(f"POST {self.path}")
                length = int(self.headers.get("Content-Length", "0"))
                form = {k: v[0] for k, v in parse_qs(self.rfile.read(length).decode()).items()}
                if self.path != "/token":
                    self._json(404, {"error": "not_found"})
                    return
                grant = provider.codes.pop(form.get("code", ""), None)
                if (
                    grant is None
                    or form.get("client_id") != provider.client_id
                    or form.get("client_secret") != provider.client_secret
                    or form.get("redirect_uri") != grant["redirect_uri"]
                ):
                    self._json(400, {"error": "invalid_grant"})
                    return
                if grant["challenge"]:
                    verifier = form.get("code_verifier", "")
                    if _b64(hashlib.sha256(verifier.encode()).digest()) != grant["challenge"]:
                        self._json(400, {"error": "invalid_grant", "error_description": "pkce"})
                        return
                access = secrets.token_urlsafe(24)
                provider.tokens[access] = grant["claims"]
                self._json(
                    200,
                    {
                        "access_token": access,
                        "token_type": "Bearer",
                        "expires_in": 300,
                        "id_token": provider.id_token(grant["claims"], grant["nonce"]),
                    },
                )

        return Handler
