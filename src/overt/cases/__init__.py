"""overt.cases (being built)."""
