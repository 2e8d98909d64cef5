"""The Shiny for Python dashboard: one module per page (``pages/``), registered in ``registry.py``."""
