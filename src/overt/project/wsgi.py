import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "overt.project.settings")
application = get_wsgi_application()

from overt.project.startup import settle  # noqa: E402  (needs Django set up)

settle()
