import os

from django.core.asgi import get_asgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "overt.project.settings")
django_application = get_asgi_application()

# Upload bodies (tus at /files/, Swift object PUTs) stream to disk in raw ASGI handlers;
# Django's handler would spool each whole body to a temporary file first.
from overt.uploads.asgi import UploadsRouter  # noqa: E402  (needs Django set up)

application = UploadsRouter(django_application)

from overt.project.startup import settle  # noqa: E402

settle()
