"""One Jinja2 environment for every HTML report carelens writes (templates in ``reports/templates``).

Why one: every page is escaped the same way (HTML autoescape on, so a specialty or site name with
``<`` or ``&`` in it cannot break or inject into a report) and found in the same place; a
capability hands its template plain values and pre-built fragments (charts), never builds HTML
with strings.
"""

from __future__ import annotations

from functools import cache
from typing import Any

from jinja2 import Environment, PackageLoader, select_autoescape


@cache
def environment() -> Environment:
    return Environment(loader=PackageLoader("carelens.reports", "templates"), autoescape=select_autoescape(["html"]))


def render(template: str, **context: Any) -> str:
    """Render ``reports/templates/<template>`` with ``context``."""
    return environment().get_template(template).render(**context)
