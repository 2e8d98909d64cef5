"""How the API says no: error bodies, their OpenAPI declarations, the handlers, the body limit.

Rules every route follows (and ``tests/integration/test_api_schemathesis.py`` checks against the
published OpenAPI document):
- a 422 is FastAPI's list of problems in ``detail`` (``loc``, ``msg``, ``type``), plus ``message``
  (one line naming the first bad field) and ``field``; echoed inputs are made JSON-safe (an
  infinite or NaN number, a lone surrogate) and containers are not echoed back at all;
- any other refusal is ``{"detail": one line, "field": ..., "row": ...}``;
- every status a route can answer is declared in its ``responses`` (:func:`responses`);
- no error body carries a stack trace or a server path: an unexpected error is a 500 saying only
  that (the server's log has the traceback), and a path inside a user error is cut to its last part.
"""

from __future__ import annotations

import math
import re
from typing import Any

from fastapi import FastAPI, HTTPException, Request
from fastapi.encoders import jsonable_encoder
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.routing import Match

from carelens.errors import CarelensError

ECHO_CHARS = 200
METHODS = ("GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS")


class ErrorBody(BaseModel):
    """A refusal in one line, naming the field (and the row of a loaded file) where it can."""

    detail: str
    field: str | None = None
    row: int | None = None


class ValidationIssue(BaseModel):
    loc: list[str | int] = Field(description="Where: 'body', then keys and list positions.")
    msg: str
    type: str
    input: Any = Field(None, description="The offending value when it is a plain value (not echoed when a list or object).")
    ctx: dict[str, Any] | None = None


class ValidationErrorBody(BaseModel):
    """FastAPI's list of problems, with one readable line naming the first field."""

    detail: list[ValidationIssue]
    message: str
    field: str


class ApiError(HTTPException):
    """A refusal with its status, one line and the field it concerns (FastAPI's ``HTTPException``, so one
    raised while the body is read, by :class:`BodyLimit`, keeps its status)."""

    def __init__(self, status_code: int, detail: str, *, field: str | None = None, headers: dict | None = None) -> None:
        super().__init__(status_code, detail, headers=headers)
        self.field = field


_DESCRIPTIONS = {
    400: "The request is well formed but cannot be carried out (a file or rows that cannot be loaded, a "
         "store problem); `field` and `row` say where.",
    401: "Missing, unknown or revoked API key.",
    403: "The caller's role may not do this (or has no role), or a signed-in browser's change lacks its CSRF token.",
    404: "Nothing stored under that key.",
    413: "Request body, or number of items, over the configured limit.",
    415: "Unsupported file type.",
    422: "The request does not match the documented shape; `detail` lists each problem.",
}


def responses(*codes: int) -> dict[int | str, dict[str, Any]]:
    """OpenAPI ``responses`` for these refusal codes (every code a route can answer must be here)."""
    return {code: {"model": ValidationErrorBody if code == 422 else ErrorBody, "description": _DESCRIPTIONS[code]}
            for code in codes}


def json_safe(value: Any) -> Any:
    """``value`` as strict JSON can carry it: non-finite numbers as text, lone surrogates escaped,
    long text cut, anything else unknown as its text."""
    if isinstance(value, float):
        return value if math.isfinite(value) else str(value)
    if isinstance(value, str):
        text = value if len(value) <= ECHO_CHARS else value[:ECHO_CHARS] + "…"
        return text.encode("utf-8", "backslashreplace").decode("utf-8")
    if value is None or isinstance(value, (bool, int)):
        return value
    if isinstance(value, dict):
        return {str(json_safe(k)): json_safe(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [json_safe(v) for v in value]
    return json_safe(str(value))


# An absolute path of two or more parts (POSIX or Windows), as a driver or a model check may quote one.
_SERVER_PATH = re.compile(r"(?<![\w.:/\\])(?:[A-Za-z]:)?(?:[\\/][^\s\\/'\"(),;:]+){2,}[\\/]?")


def without_server_paths(text: str) -> str:
    """``text`` with every absolute path cut to its last part (``/srv/carelens/model`` -> ``…/model``):
    a user error says which file or folder, the caller does not learn the server's layout."""
    return _SERVER_PATH.sub(lambda m: "…/" + re.split(r"[\\/]", m.group(0).rstrip("\\/"))[-1], text)


def field_name(loc: tuple | list) -> str:
    """``("body", 1, "comment_text")`` -> ``"[1].comment_text"`` (the name a 422's message uses)."""
    name = "".join(f"[{p}]" if isinstance(p, int) else f".{p}" for p in loc if p != "body").lstrip(".")
    return name or "body"


def validation_body(errors: list[dict[str, Any]]) -> dict[str, Any]:
    """The 422 body for pydantic/FastAPI ``errors``."""
    issues = []
    for error in errors:
        issue = {"loc": [json_safe(p) for p in error.get("loc", ())], "msg": json_safe(str(error.get("msg", "invalid"))),
                 "type": str(error.get("type", "value_error"))}
        if not isinstance(error.get("input"), (dict, list, tuple)):
            issue["input"] = json_safe(error.get("input"))
        if error.get("ctx"):
            issue["ctx"] = json_safe(dict(error["ctx"]))
        issues.append(issue)
    first = errors[0] if errors else {}
    named = [p for p in first.get("loc", ()) if isinstance(p, str) and p != "body"]
    if first.get("type") == "json_invalid" and named:  # a form field's JSON (an upload's mapping): name it
        field = field_name(first["loc"])
        message = f"field '{field}': not valid JSON; {json_safe(str(first.get('msg', 'invalid')))}"
    elif first.get("type") == "json_invalid":
        field = "body"
        message = f"the request body is not valid JSON ({json_safe((first.get('ctx') or {}).get('error', 'decode error'))})"
    else:
        field = field_name(first.get("loc", ()))
        message = f"field '{field}': {json_safe(str(first.get('msg', 'invalid')).removeprefix('Value error, '))}"
    if len(errors) > 1:
        message += f" (and {len(errors) - 1} more problem{'s' if len(errors) > 2 else ''})"
    return {"detail": issues, "message": message, "field": field}


def invalid(loc: tuple, message: str, kind: str = "value_error") -> RequestValidationError:
    """A 422 for one field, raised where pydantic cannot see the problem (a form field's JSON)."""
    return RequestValidationError([{"type": kind, "loc": loc, "msg": message, "input": None}])


def allowed_methods(request: Request) -> str:
    """Every method some route answers on this path. Why: Starlette's 405 names only the first route
    matching the path, so ``OPTIONS /corrections`` said ``Allow: POST`` although ``GET`` works too.
    Each method is tried against the app's routes (their public ``matches``)."""
    allowed = []
    for method in METHODS:
        scope = {**request.scope, "method": method}
        if any(route.matches(scope)[0] == Match.FULL for route in request.app.router.routes):
            allowed.append(method)
    return ", ".join(allowed)


def install_error_handlers(api: FastAPI) -> None:
    """422s, refusals, user errors and unexpected errors as the module docstring says."""

    @api.exception_handler(RequestValidationError)
    async def invalid_request(request: Request, exc: RequestValidationError) -> JSONResponse:
        return JSONResponse(validation_body(list(exc.errors())), status_code=422)

    @api.exception_handler(StarletteHTTPException)
    async def refused(request: Request, exc: StarletteHTTPException) -> JSONResponse:
        body = {"detail": json_safe(str(exc.detail)), "field": getattr(exc, "field", None)}
        headers = dict(getattr(exc, "headers", None) or {})
        if exc.status_code == 405:
            headers["Allow"] = allowed_methods(request)
        return JSONResponse(body, status_code=exc.status_code, headers=headers)

    @api.exception_handler(CarelensError)
    async def carelens_error(request: Request, exc: CarelensError) -> JSONResponse:
        body = {"detail": json_safe(without_server_paths(str(exc))), "field": json_safe(exc.field), "row": exc.row}
        return JSONResponse(jsonable_encoder(body), status_code=400)

    @api.exception_handler(Exception)
    async def unexpected(request: Request, exc: Exception) -> JSONResponse:
        # Starlette logs the traceback on the server after this; the caller learns nothing of the inside.
        return JSONResponse({"detail": "internal error: the server could not answer this request; "
                             "its log has the details", "field": None}, status_code=500)


class BodyLimit:
    """ASGI middleware refusing request bodies over ``limit`` bytes with a 413 naming the field.

    Checks the declared Content-Length first, then counts the bytes actually received, so a chunked
    upload (no Content-Length) cannot slip past the limit either. (FastAPI's own ``max_body_size``
    answers some of these as plain text, which the OpenAPI document cannot promise.)
    """

    def __init__(self, app, limit: int) -> None:
        self.app, self.limit = app, limit

    def _message(self) -> str:
        return f"request body over the limit of {self.limit:,} bytes"

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        length = dict(scope.get("headers") or []).get(b"content-length", b"")
        if length.isdigit() and int(length) > self.limit:
            response = JSONResponse({"detail": self._message(), "field": "body"}, status_code=413)
            return await response(scope, receive, send)
        received = 0

        async def counted():
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > self.limit:
                    raise ApiError(413, self._message() + " (field 'body')", field="body")
            return message

        await self.app(scope, counted, send)
