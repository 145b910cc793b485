"""The ASGI front for `overt serve`: upload bodies go to handlers that stream them to
disk; everything else goes to Django.

Django's ASGI handler reads a whole request body into a temporary file before the view
runs. For the two routes that carry footage (tus at /files/, and Swift object PUTs from
an Axis Body Worn System) this router hands the request to raw ASGI handlers instead.
"""

from __future__ import annotations

from .asgi_http import ASGIApp, Receive, Scope, Send


class UploadsRouter:
    def __init__(self, django_app: ASGIApp) -> None:
        self.django_app = django_app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            path = scope["path"]
            if path == "/files" or path.startswith("/files/"):
                from .tus import app

                await app(scope, receive, send)
                return
            if scope["method"] == "PUT" and path.startswith("/swift/"):
                from .swift_put import app as swift_put
                from .swift_put import is_object_path

                if is_object_path(path):
                    await swift_put(scope, receive, send)
                    return
        await self.django_app(scope, receive, send)
