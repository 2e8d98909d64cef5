"""carelens.demand."""
