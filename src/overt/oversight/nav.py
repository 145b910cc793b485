"""The oversight stage's entries in the navigation bar (rendered by the portal)."""

from overt.web.nav import NavLink

LINKS: tuple[NavLink, ...] = (
    NavLink("Oversight", "oversight", capability="see-oversight", order=60),
    NavLink("Complaints", "oversight-complaints", capability="manage-complaints", order=61),
    NavLink("Supervisor review", "oversight-review", capability="supervisor-review", order=62),
    NavLink("Transparency report", "oversight-report", capability="publish-reports", order=63),
    NavLink(
        "My reviews", "oversight-my-reviews", roles=frozenset({"officer", "supervisor"}), order=90
    ),
)
