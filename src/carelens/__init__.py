"""carelens: turn an NHS trust's own data into decisions.

Capabilities live in :mod:`carelens.feedback`, :mod:`carelens.appointments` and
:mod:`carelens.demand`; shared foundations (tables, store, config, reports) sit beside them.
"""

__version__ = "0.1.0"
