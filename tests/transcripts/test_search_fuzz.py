"""Hypothesis: whatever is typed into the search box (FTS syntax, quotes, any unicode,
up to 10 kB), the API and the library answer 200 or a plain 400, never a 500."""

from __future__ import annotations

from urllib.parse import quote

import pytest
from django.test import Client
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from search_support import make_recording

from overt.evidence.models import Recording
from overt.testing.access import make_user, sign_in

pytestmark = pytest.mark.scaled

FTS_BITS = st.sampled_from(
    [
        '"',
        "'",
        "*",
        "^",
        ":",
        "(",
        ")",
        "NEAR",
        "AND",
        "OR",
        "NOT",
        "-",
        "+",
        "{",
        "}",
        "\\",
        "%",
        "_",
        "<->",
        "&",
        "|",
        "!",
        ":*",
        "\x00",
        "\ud800",
        " ",
        "weapon",
        "Hughes",
        "ß",
        "İ",
    ]
)
QUERIES = st.one_of(
    st.text(max_size=300),
    st.lists(st.one_of(FTS_BITS, st.text(max_size=8)), max_size=40).map("".join),
    st.text(min_size=10_000, max_size=10_240, alphabet=st.characters(codec="utf-8")),
)


@settings(
    max_examples=60,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(q=QUERIES)
def test_any_query_is_answered(client: Client, db: None, q: str) -> None:
    from django.contrib.auth import get_user_model

    if not Recording.objects.exists():  # hypothesis reuses the function's database
        make_recording("Armed deployment", said="drop the weapon")
    user = get_user_model().objects.filter(username="fuzz").first()
    sign_in(client, user or make_user("fuzz", "evidence-manager"))
    # As a browser would send it: UTF-8, percent-encoded (lone surrogates as raw bytes).
    encoded = quote(q.encode("utf-8", "surrogatepass"))
    for url in ("/api/recordings/", "/"):
        response = client.get(f"{url}?q={encoded}")
        assert response.status_code in (200, 400), (url, q[:80], response.status_code)
