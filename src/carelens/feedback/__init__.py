"""carelens.feedback."""
