"""Files the pages load, all served by this app: front-end packages (npm) and our own.

The packages are installed by ``make install`` (``npm ci`` from ``package-lock.json``) into
``node_modules/``; nothing is loaded from a CDN, so the pages and the API docs work offline.
"""

from __future__ import annotations

from pathlib import Path

from fastapi import APIRouter, Request
from fastapi.responses import FileResponse, HTMLResponse

from api.errors import Problem
from api.web.rendering import ENVIRONMENT, headers

STATIC = Path(__file__).parent / "static"
NODE_MODULES = Path(__file__).resolve().parents[2] / "node_modules"

VENDOR = {
    "pico.css": "@picocss/pico/css/pico.min.css",
    "htmx.js": "htmx.org/dist/htmx.min.js",
    "htmx-sse.js": "htmx-ext-sse/dist/sse.min.js",
    "chart.js": "chart.js/dist/chart.umd.min.js",
    "swagger-ui.css": "swagger-ui-dist/swagger-ui.css",
    "swagger-ui-bundle.js": "swagger-ui-dist/swagger-ui-bundle.js",
    "redoc.js": "redoc/bundles/redoc.standalone.js",
}
"""The package files pages may load, by the name they are served under (``/vendor/NAME``)."""

OWN = {"app.css", "app.js", "forms.css", "forms.js", "admin.css", "swagger-init.js"}
CACHED = {"Cache-Control": "public, max-age=3600", "X-Content-Type-Options": "nosniff"}

DOCS_CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; "
    "img-src 'self' data:; font-src 'self' data:; connect-src 'self'; worker-src 'self' blob:; "
    "object-src 'none'; base-uri 'none'; frame-ancestors 'none'"
)
"""The API docs: scripts from this server only; the two UIs set inline styles themselves."""

router = APIRouter(include_in_schema=False)


def vendor_path(name: str) -> Path:
    """Where an installed package file is (404 for a name that is not served)."""
    relative = VENDOR.get(name)
    if relative is None:
        raise Problem(404, f"no such file: /vendor/{name}")
    path = NODE_MODULES / relative
    if not path.is_file():
        raise Problem(
            503, f"/vendor/{name} is not installed: run `make install` (npm ci) on this server"
        )
    return path


@router.get("/vendor/{name}")
def vendor_file(name: str) -> FileResponse:
    """A front-end package's file, from node_modules (installed with the lock file)."""
    return FileResponse(vendor_path(name), headers=CACHED)


@router.get("/static/{name}")
def static_file(name: str) -> FileResponse:
    """One of the workspace's own scripts or style sheets."""
    if name not in OWN:
        raise Problem(404, f"no such file: /static/{name}")
    return FileResponse(STATIC / name, headers=CACHED)


@router.get("/docs")
def swagger_ui(request: Request) -> HTMLResponse:
    """The interactive API documentation (Swagger UI, served from this server)."""
    return _docs("swagger.html", request)


@router.get("/redoc")
def redoc(request: Request) -> HTMLResponse:
    """The API reference (ReDoc, served from this server)."""
    return _docs("redoc.html", request)


def _docs(template: str, request: Request) -> HTMLResponse:
    html = ENVIRONMENT.get_template(template).render(openapi_url=request.app.openapi_url)
    return HTMLResponse(html, headers=headers(DOCS_CSP))
