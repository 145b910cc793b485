"""The access stage's entries in the navigation bar."""

from overt.web.nav import NavLink

LINKS: tuple[NavLink, ...] = (
    NavLink("Alerts", "access-alerts", capability="see-alerts", order=60, badge="alerts"),
    NavLink("Post-incident", "access-post-incident", capability="manage-access", order=65),
    NavLink("Users", "access-users", capability="manage-users", order=70),
    NavLink("Tokens", "access-tokens", capability="manage-tokens", order=75),
)
