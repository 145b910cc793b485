"""The fleet's entries in the navigation bar (collected by the portal)."""

from overt.web.nav import NavLink

LINKS = (
    NavLink("Fleet", "fleet", capability="manage-fleet", order=60),
    NavLink("Unattributed", "fleet-unattributed", capability="manage-fleet", order=61),
    NavLink("Kiosk", "fleet-kiosk", capability="use-kiosk", order=62),
)
