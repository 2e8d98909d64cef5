"""The API's routers, one module per resource; :data:`ROUTERS` is what ``create_api`` mounts, in this order.

Every router but ``health`` carries :data:`PROTECTED` (the caller's identity, and the JSON body's
Unicode check), so a new route in one of them needs a key without saying so.
"""

from __future__ import annotations

from fastapi import Depends

from carelens.web.api.auth import current_caller
from carelens.web.api.deps import unicode_body

PROTECTED = [Depends(current_caller), Depends(unicode_body)]


def routers():
    """The routers in mounting order (imported here so a broken route module stops ``create_api``)."""
    from carelens.web.api.routes import (
        appointments,
        classify,
        comments,
        comparison,
        corrections,
        filters,
        health,
        summaries,
    )

    return [health.router, classify.router, comments.router, summaries.router, comparison.router, filters.router,
            corrections.router, appointments.router]
