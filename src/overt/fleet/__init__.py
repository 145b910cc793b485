"""overt.fleet (being built)."""
