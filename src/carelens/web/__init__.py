"""carelens.web."""
