"""The API's routers, one module per resource; :data:`ROUTERS` is what ``create_api`` mounts, in this order.

Every router but ``health`` carries :data:`PROTECTED` (the caller's identity, and the JSON body's
Unicode check), so a new route in one of them needs a key without saying so; most carry
:func:`guarded` instead, which also asks for the permission the resource needs (a 403 otherwise).
"""

from __future__ import annotations

from fastapi import Depends

from carelens.access.roles import Permission
from carelens.web.api.auth import current_caller, require
from carelens.web.api.deps import unicode_body

PROTECTED = [Depends(current_caller), Depends(unicode_body)]


def guarded(permission: Permission) -> list:
    """:data:`PROTECTED`, and the caller's role must have ``permission``."""
    return [Depends(require(permission)), Depends(unicode_body)]


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
