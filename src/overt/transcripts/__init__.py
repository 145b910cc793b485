"""overt.transcripts (being built)."""
