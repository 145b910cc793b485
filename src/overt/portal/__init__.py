"""overt.portal (being built)."""
