"""carelens.appointments."""
