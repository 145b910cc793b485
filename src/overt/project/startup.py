"""What a serving process does once it has loaded the app, before its first request."""

from __future__ import annotations

import gc


def settle() -> None:
    """Load the URL map now (not at the first request), then move every object made so
    far (modules, classes, settings, the URL map: they live as long as the process) out
    of the cyclic garbage collector's reach (gc.freeze). Its full collections otherwise
    walk all of them again and again: in bench/transcripts_search.py (a process like a
    server's, about 180,000 objects) they paused requests for 30-155 ms each, several
    times per hundred searches, on both engines."""
    from django.urls import get_resolver

    get_resolver().url_patterns  # noqa: B018 (loading it is the point)
    gc.collect()
    gc.freeze()
