"""The uploads stage's entries in the navigation bar. The upload page is offered to
evidence managers (overt.uploads.views.may_upload; a user given the uploads.add_upload
permission reaches it from its address); device tokens to administrators."""

from overt.web.nav import NavLink

LINKS: tuple[NavLink, ...] = (
    NavLink("Upload", "upload-new", roles=frozenset({"evidence-manager"}), order=30),
    NavLink("Device tokens", "device-tokens", capability="manage-tokens", order=76),
    NavLink("Camera enrolment", "device-enrolment", capability="manage-tokens", order=77),
)
