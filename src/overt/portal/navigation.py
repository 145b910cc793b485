"""The navigation bar, by role: every installed app's ``nav.py`` LINKS, filtered by the
access matrix so that a link appears only where its page would answer 200.

Collecting is separate from choosing: `collect()` imports each installed app's nav module
once; `visible()` is a pure rule over (links, role) tested without the web.
"""

from __future__ import annotations

import importlib
from collections.abc import Iterable
from dataclasses import dataclass
from functools import cache

from django.apps import apps
from django.urls import NoReverseMatch, reverse

from overt.access.matrix import Capability, Role, has_capability
from overt.web.nav import NavLink


def allows(link: NavLink, role: Role | None) -> bool:
    """May a user of `role` see `link`? No role: nothing (a role-less user may do nothing)."""
    if role is None:
        return False
    if link.roles is not None and role.value not in link.roles:
        return False
    if link.capability is not None and not has_capability(role, Capability(link.capability)):
        return False
    return True


def visible(links: Iterable[NavLink], role: Role | None) -> list[NavLink]:
    """The links a role sees, in order (then by label, so the bar is stable)."""
    return sorted((link for link in links if allows(link, role)), key=lambda x: (x.order, x.label))


@cache
def collect() -> tuple[NavLink, ...]:
    """Every installed app's `nav.LINKS` (an app without a nav module offers none)."""
    found: list[NavLink] = []
    for config in apps.get_app_configs():
        try:
            module = importlib.import_module(f"{config.name}.nav")
        except ModuleNotFoundError as exc:
            if exc.name != f"{config.name}.nav":
                raise  # the nav module exists but imports something missing: say so
            continue
        found.extend(getattr(module, "LINKS", ()))
    return tuple(found)


@dataclass(frozen=True)
class ShownLink:
    label: str
    url: str
    current: bool
    badge: int = 0
    badge_name: str = ""


def is_current(url: str, path: str) -> bool:
    """The link for the page shown: its own path, or a page under it ("/" only itself)."""
    return path == url or (url != "/" and path.startswith(url))


def shown_links(role: Role | None, path: str, counts: dict[str, int]) -> list[ShownLink]:
    rows: list[ShownLink] = []
    for link in visible(collect(), role):
        try:
            url = reverse(link.url_name)
        except NoReverseMatch:  # an app's link to a page its URLs do not mount: skip it
            continue
        badge = counts.get(link.badge, 0) if link.badge else 0
        rows.append(ShownLink(link.label, url, False, badge, link.badge or ""))
    # Only the most specific link is current (/retention/holds/ is not also /retention/).
    best = max((r for r in rows if is_current(r.url, path)), key=lambda r: len(r.url), default=None)
    return [ShownLink(r.label, r.url, r is best, r.badge, r.badge_name) for r in rows]
