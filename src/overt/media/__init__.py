"""Media: probing and derivative generation (PyAV/FFmpeg).

`probe` and `derivatives` are pure: they import no Django, and callers own storage
and provenance records.
"""
