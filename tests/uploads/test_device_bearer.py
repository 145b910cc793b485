"""The one device-token check (overt.uploads.tokens.device_for_authorization) that tus,
the camera agent's API and the fleet API share: what it accepts and how it refuses."""

from __future__ import annotations

import pytest

from overt.uploads.errors import NotSignedIn
from overt.uploads.tokens import device_for_authorization, issue_token, revoke_tokens


@pytest.mark.parametrize(
    "header",
    ["", "Basic dXNlcjpwYXNz", "Bearer", "Bearer   ", "Token ovt_x", "Bearer a b"],
)
def test_a_header_that_is_not_one_bearer_token_is_refused(header: str, people: tuple) -> None:
    with pytest.raises(NotSignedIn, match="send Authorization: Bearer <device token>"):
        device_for_authorization(header)


def test_the_token_names_its_device_and_revocation_ends_it(people: tuple) -> None:
    token = issue_token("CAM-1", dock=False, created_by="test")
    for header in (f"Bearer {token}", f"bearer {token}", f"  Bearer  {token} "):
        principal = device_for_authorization(header)
        assert (principal.kind, principal.id, principal.dock) == ("device", "CAM-1", False)
    with pytest.raises(NotSignedIn, match="unknown or revoked"):
        device_for_authorization(f"Bearer {token}x")
    revoke_tokens("CAM-1", revoked_by="test")
    with pytest.raises(NotSignedIn, match="unknown or revoked"):
        device_for_authorization(f"Bearer {token}")
