"""carelens.reports."""
