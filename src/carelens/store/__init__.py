"""carelens.store."""
