"""The portal's own entries in the navigation bar."""

from overt.web.nav import NavLink

LINKS: tuple[NavLink, ...] = (
    NavLink("Home", "home", order=0),
    NavLink("Custody log", "custody-browser", capability="read-custody", order=80),
    NavLink("Checkpoints", "custody-checkpoints", capability="read-custody", order=81),
)
