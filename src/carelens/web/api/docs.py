"""The OpenAPI document (``/openapi.json``, needs a key) and the pages that show it (``/docs``, ``/redoc``).

Why the document needs a key: it maps every route and field of a service that holds patient
comments (issue 16). The pages themselves hold nothing: they ask for a key in the browser, keep it
for the tab (``sessionStorage``) and send it as ``X-API-Key`` when they fetch the document and when
"Try it out" calls a route. Swagger UI and ReDoc are served from the files that ship with
``fastapi-offline`` (trust machines are often offline; FastAPI's default pages load them from a CDN).

What is published is FastAPI's document plus what only the settings and the model know
(:func:`published_openapi`): ``maxItems`` of a batch (``max_batch``) and the topic names a
correction may use (the model's framework).
"""

from __future__ import annotations

import copy
import html
from pathlib import Path
from typing import Any

from fastapi import APIRouter, FastAPI, Request
from fastapi.responses import HTMLResponse, JSONResponse
from fastapi.staticfiles import StaticFiles

from carelens.config import Settings
from carelens.web.api.auth import CallerDep

ASSETS = "/static-offline-docs"

_KEY_SCRIPT = """
(function () {
  var stored = sessionStorage.getItem("carelens-api-key");
  var key = stored || window.prompt("API key (sent as X-API-Key) to read this API's documentation:") || "";
  if (key && !stored) sessionStorage.setItem("carelens-api-key", key);
  window.carelensApiKey = key;
  window.carelensAddKey = function (request) { if (key) request.headers["X-API-Key"] = key; return request; };
  window.carelensForgetKeyOn401 = function (response) {
    if (response.status === 401) sessionStorage.removeItem("carelens-api-key");
    return response;
  };
})();
"""

_SWAGGER_START = """
SwaggerUIBundle({
  url: document.currentScript.dataset.openapi, dom_id: "#swagger-ui",
  requestInterceptor: window.carelensAddKey, responseInterceptor: window.carelensForgetKeyOn401,
  presets: [SwaggerUIBundle.presets.apis, SwaggerUIBundle.SwaggerUIStandalonePreset], layout: "BaseLayout",
  deepLinking: true, showExtensions: true, showCommonExtensions: true
});
"""

_REDOC_START = """
(function (url) {
  fetch(url, {headers: {"X-API-Key": window.carelensApiKey}}).then(function (r) {
    window.carelensForgetKeyOn401(r);
    if (!r.ok) throw new Error("the API answered " + r.status + " (is the key right?)");
    return r.json();
  }).then(function (spec) { Redoc.init(spec, {}, document.getElementById("redoc")); })
    .catch(function (e) { document.getElementById("redoc").textContent = "Could not load the API document: " + e.message; });
})(document.currentScript.dataset.openapi);
"""

router = APIRouter(include_in_schema=False)


def _root(request: Request) -> str:
    return request.scope.get("root_path", "").rstrip("/")


@router.get("/openapi.json")
def openapi_document(request: Request, caller: CallerDep) -> JSONResponse:
    document = copy.deepcopy(request.app.openapi())
    if _root(request):  # mounted under /api: requests go there (as FastAPI's own route does it)
        document["servers"] = [{"url": _root(request)}]
    return JSONResponse(document)


def _page(request: Request, library: str, start: str, container: str, css: str = "") -> HTMLResponse:
    root = _root(request)
    title = html.escape(request.app.title)
    style = f'<link rel="stylesheet" href="{root}{ASSETS}/{css}">' if css else ""
    return HTMLResponse(f"""<!doctype html>
<html><head><meta charset="utf-8"><title>{title}</title>{style}
<link rel="icon" href="{root}{ASSETS}/favicon.png"></head>
<body><div id="{container}"></div>
<script src="{root}{ASSETS}/{library}"></script>
<script>{_KEY_SCRIPT}</script>
<script data-openapi="{root}/openapi.json">{start}</script>
</body></html>""")


@router.get("/docs")
def swagger_page(request: Request) -> HTMLResponse:
    return _page(request, "swagger-ui-bundle.js", _SWAGGER_START, "swagger-ui", css="swagger-ui.css")


@router.get("/redoc")
def redoc_page(request: Request) -> HTMLResponse:
    return _page(request, "redoc.standalone.js", _REDOC_START, "redoc")


def mount_docs(api: FastAPI, settings: Settings) -> None:
    """The document, the two pages and their files on ``api``; ``api.openapi`` publishes the extras."""
    import fastapi_offline

    api.include_router(router)
    api.mount(ASSETS, StaticFiles(directory=Path(fastapi_offline.__file__).parent / "static"), name="offline-docs")
    generate = api.openapi

    def openapi() -> dict[str, Any]:
        if not api.openapi_schema:
            api.openapi_schema = published_openapi(generate(), settings)
        return api.openapi_schema

    api.openapi = openapi  # FastAPI's documented way to extend the document


def published_openapi(document: dict[str, Any], settings: Settings) -> dict[str, Any]:
    """FastAPI's ``document`` plus the batch limit, the upload's mapping as the object it is, and the
    framework's topic names."""
    schemas = document.get("components", {}).get("schemas", {})
    batch = document["paths"]["/classify"]["post"]["requestBody"]["content"]["application/json"]["schema"]
    batch["maxItems"] = settings.max_batch
    schemas["LoadRowsRequest"]["properties"]["rows"]["maxItems"] = settings.max_batch
    # The upload's `mapping` form field is a JSON object (a multipart part holding JSON), not any text
    upload = document["paths"]["/comments/upload"]["post"]["requestBody"]["content"]["multipart/form-data"]
    form = schemas[upload["schema"]["$ref"].rsplit("/", 1)[-1]]
    form["properties"]["mapping"] = {"$ref": "#/components/schemas/MappingIn",
                                     "description": form["properties"]["mapping"].get("description", "")}
    upload["encoding"] = {"mapping": {"contentType": "application/json"}}
    labels = _topic_names(settings)
    if labels:
        schemas["TopicCorrectionIn"]["properties"]["topics"]["items"]["enum"] = labels
    return document


def _topic_names(settings: Settings) -> list[str]:
    """The model's framework labels (what a correction may name); [] when the model cannot be read,
    in which case the correction route itself reports the model problem."""
    from carelens.errors import CarelensError
    from carelens.feedback.model_cache import cached_model

    try:
        return [label.name for label in cached_model(settings.feedback_model).framework.labels]
    except CarelensError:
        return []


__all__ = ["mount_docs", "published_openapi"]
