"""The navigation entries of overt.cases (the portal shows each by the access matrix)."""

from __future__ import annotations

from overt.web.nav import NavLink

LINKS: tuple[NavLink, ...] = (
    NavLink("Cases", "cases", capability="manage-cases", order=30),
    NavLink("Shares", "shares", capability="share-outside", order=35),
    NavLink("Shared with me", "shared-with-me", order=40, badge="shares"),
)
