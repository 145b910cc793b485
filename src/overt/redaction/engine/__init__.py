"""The redaction engine: detect, track, render. No Django here, so `overt redact` runs
on any file without an instance."""
