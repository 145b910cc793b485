"""The review stage's entries in the navigation bar."""

from overt.web.nav import NavLink

# The library answers every signed-in user, but lists nothing for the auditor (who holds
# only `audit`) or the admin (no footage): they are not offered it.
LINKS: tuple[NavLink, ...] = (
    NavLink(
        "Recordings",
        "library",
        roles=frozenset(
            {"officer", "supervisor", "evidence-manager", "investigator", "prosecutor"}
        ),
        order=10,
    ),
    NavLink("Jobs", "jobs", capability="see-jobs", order=90),
)
