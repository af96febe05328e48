"""Pages as HTML: the Jinja2 templates (autoescaped), security headers, and error pages."""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import jinja2
from fastapi import FastAPI, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from api.errors import Problem
from api.web.viewer import COOKIE, SignInRequired, Viewer, find_viewer, sign_in_location

TEMPLATES = Path(__file__).parent / "templates"

CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "font-src 'self' data:; connect-src 'self'; object-src 'none'; base-uri 'none'; "
    "form-action 'self'; frame-ancestors 'none'"
)
"""Every page: scripts, styles and data from this server only; no inline script or style."""

PAGE_PREFIXES = (
    "/signin",
    "/signout",
    "/portfolio",
    "/managers/",
    "/partners/",
    "/plans/",
    "/audit",
    "/admin",
    "/live/",
)

ENVIRONMENT = jinja2.Environment(
    loader=jinja2.FileSystemLoader(TEMPLATES),
    autoescape=True,  # every value is escaped unless a template says otherwise (it never does)
    undefined=jinja2.StrictUndefined,
    trim_blocks=True,
    lstrip_blocks=True,
)


def headers(csp: str = CSP) -> dict[str, str]:
    """Security headers of an HTML response."""
    return {
        "Content-Security-Policy": csp,
        "X-Content-Type-Options": "nosniff",
        "Referrer-Policy": "same-origin",
        "Cache-Control": "no-store",
    }


def render(
    request: Request,
    template: str,
    viewer: Viewer | None,
    status_code: int = 200,
    extra_headers: dict[str, str] | None = None,
    **context: Any,
) -> HTMLResponse:
    """A page from a template and its view data (no rule and no query in the template)."""
    html = ENVIRONMENT.get_template(template).render(
        request=request, viewer=viewer, path=request.url.path, **context
    )
    return HTMLResponse(
        html, status_code=status_code, headers={**headers(), **(extra_headers or {})}
    )


def is_page(request: Request) -> bool:
    """Whether a request is for a page (HTML) rather than for the JSON API."""
    path = request.url.path
    if path == "/" or path.startswith(PAGE_PREFIXES):
        return True
    return not path.startswith("/v1") and "text/html" in request.headers.get("accept", "")


def install_error_pages(app: FastAPI) -> None:
    """Make every error handler of ``api.errors`` answer pages with an HTML page.

    The status, title and message come from the JSON handler (its one table of errors), so a
    page and the API always agree; a 404 page never says whether the thing exists out of the
    caller's scope, so out of scope looks exactly like missing.
    """
    for key, handler in list(app.exception_handlers.items()):
        app.exception_handlers[key] = _page_aware(handler)


def _page_aware(
    handler: Callable[[Request, Exception], Response | Awaitable[Response]],
) -> Callable[[Request, Exception], Awaitable[Response]]:
    async def handle(request: Request, error: Exception) -> Response:
        if isinstance(error, SignInRequired) and is_page(request):
            return RedirectResponse(sign_in_location(error.next_path), status_code=303)
        answered = handler(request, error)
        response = await answered if isinstance(answered, Awaitable) else answered
        if not is_page(request):
            return response
        return error_page(request, response.status_code, _detail(error, response))

    return handle


def _detail(error: Exception, response: Response) -> str:
    if isinstance(error, Problem):
        return error.detail
    try:
        body = json.loads(bytes(response.body))
    except (ValueError, TypeError):
        return ""
    return str(body.get("detail", "")) if isinstance(body, dict) else ""


MESSAGES = {
    404: "There is no such page, or it is not one you may see.",
    500: "Something went wrong on our side; it has been logged.",
}


def error_page(request: Request, status: int, detail: str) -> HTMLResponse:
    """The page for an error: the same words for a missing thing and one out of scope."""
    viewer = None
    services = getattr(request.app.state, "services", None)
    if services is not None and status != 503:
        try:
            viewer = find_viewer(services, request.cookies.get(COOKIE))
        except Exception:
            viewer = None
    message = MESSAGES.get(status, detail or "The request could not be served.")
    titles = {403: "Not allowed", 404: "Not found", 422: "Not understood", 503: "Unavailable"}
    return render(
        request,
        "error.html",
        viewer,
        status_code=status,
        status=status,
        title=titles.get(status, "Error"),
        message=message,
    )
