"""What a stage offers the navigation bar, declared as data.

Each stage app that has pages for the navigation lists them in its own ``nav.py`` as
``LINKS: tuple[NavLink, ...]``. The portal app collects them from the installed apps and
shows a link only to a user the access matrix lets through (the capability, or the roles
named), so the bar never offers a page that would answer 403.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class NavLink:
    label: str
    url_name: str  # a Django URL name with no arguments
    capability: str | None = None  # an access-matrix Capability value; None: any signed-in user
    roles: frozenset[str] | None = None  # if set, only these roles (Role values) see it
    order: int = 100  # lower first
    badge: str | None = None  # the name of a counter the portal shows beside the label
