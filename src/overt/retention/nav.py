"""The retention stage's entry in the navigation bar; its pages (holds, recycle bin,
early deletion, policies) are reached from the section bar on each of them."""

from overt.web.nav import NavLink

LINKS: tuple[NavLink, ...] = (
    NavLink("Retention", "retention", capability="manage-retention", order=40, badge="approvals"),
)
