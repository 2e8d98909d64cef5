"""What routes are given rather than build: settings, the store's engine, the feedback model, a checked body.

Routes declare these as parameters (``settings: SettingsDep``, ``engine: EngineDep``,
``model: ModelDep``); the caller's identity is :data:`carelens.web.api.auth.CallerDep`. Settings
come from the app the route is mounted in (``create_api(settings)`` puts them on
``app.state``), so two APIs with different settings can live in one process (the tests do).
"""

from __future__ import annotations

from typing import Annotated, Any

import sqlalchemy as sa
from fastapi import Depends, Request

from carelens.config import Settings
from carelens.web.api.errors import invalid


def get_settings(request: Request) -> Settings:
    return request.app.state.settings


SettingsDep = Annotated[Settings, Depends(get_settings)]


def get_store(settings: SettingsDep) -> sa.Engine:
    """The store (one engine per URL per process, migrated on first use: :func:`carelens.db.get_engine`)."""
    from carelens.db import get_engine

    return get_engine(settings.database_url)


EngineDep = Annotated[sa.Engine, Depends(get_store)]


def get_model(settings: SettingsDep):
    """The feedback model, read once per process (``feedback.model_cache.cached_model``)."""
    from carelens.feedback.model_cache import cached_model

    return cached_model(settings.feedback_model)


ModelDep = Annotated[Any, Depends(get_model)]


def lone_surrogate_path(value: Any, path: tuple = ()) -> tuple | None:
    """Where in a parsed JSON value a string holds a lone surrogate (``"\\ud800"``), or None.

    Why: JSON may spell one, but it is not Unicode; it cannot be stored (DuckDB, PostgreSQL) or
    written back out as UTF-8, so it is refused at the door, naming the field.
    """
    if isinstance(value, str):
        try:
            value.encode("utf-8")
        except UnicodeEncodeError:
            return path
        return None
    if isinstance(value, dict):
        for key, item in value.items():
            found = lone_surrogate_path(key, (*path, "(key)")) if isinstance(key, str) else None
            found = found or lone_surrogate_path(item, (*path, key))
            if found is not None:
                return found
    elif isinstance(value, list):
        for i, item in enumerate(value):
            found = lone_surrogate_path(item, (*path, i))
            if found is not None:
                return found
    return None


def refuse_lone_surrogates(value: Any, loc: tuple) -> None:
    """A 422 naming the field when ``value`` (parsed JSON, found at ``loc``) holds a lone surrogate."""
    found = lone_surrogate_path(value)
    if found is not None:
        raise invalid((*loc, *found), "text holds a lone surrogate (such as \\ud800), which is not valid Unicode",
                      "string_unicode")


async def unicode_body(request: Request) -> None:
    """Every JSON body is checked for lone surrogates before the route's model sees it."""
    content_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if content_type == "application/json" or content_type.endswith("+json"):
        if await request.body():  # FastAPI has parsed it already (invalid JSON is refused before this)
            refuse_lone_surrogates(await request.json(), ("body",))
