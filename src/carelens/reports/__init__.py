"""Reports: HTML and PDF board papers built from already-suppressed summaries and redacted comments."""
