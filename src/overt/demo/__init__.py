"""Demo data: deterministic synthetic body-worn-video footage."""
