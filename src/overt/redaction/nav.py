"""The redaction list in the navigation bar: only the evidence manager holds `redact`
(overt.access.matrix), so only they are offered it."""

from overt.web.nav import NavLink

LINKS: tuple[NavLink, ...] = (
    NavLink("Redaction", "redaction-list", roles=frozenset({"evidence-manager"}), order=35),
)
