"""The rough edges issue 19 lists, each with a test that failed before its fix."""

from __future__ import annotations

import pytest
from portal_support import client_for, original, people, recording

from overt.access.matrix import Role

pytestmark = pytest.mark.django_db


def test_an_officer_can_give_statement_writing_as_the_reason() -> None:
    users = people()
    own = recording()
    original(own)
    page = client_for(users[Role.OFFICER]).get(f"/recordings/{own.pk}/").content.decode()
    assert '<option value="Statement writing">' in page
