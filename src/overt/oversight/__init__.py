"""overt.oversight (being built)."""
