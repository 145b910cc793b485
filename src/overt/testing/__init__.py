"""Test support shipped with overt, so the scaled-path setup is the same everywhere."""
