"""Signing in and out: one-time links, the token form, and the session cookie."""

from __future__ import annotations

import secrets
from typing import Annotated, Any
from uuid import UUID

from fastapi import APIRouter, Form, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from api.auth import authenticate
from api.deps import ServicesDep
from api.errors import Problem
from api.services import Services
from api.web.rendering import render
from api.web.sessions import LinkRefusal
from api.web.viewer import (
    COOKIE,
    CSRF_COOKIE,
    Viewer,
    check_csrf,
    find_viewer,
    safe_next,
    secure,
    set_session_cookie,
    sign_ins,
)
from projections.models.directory import actor

router = APIRouter(include_in_schema=False)
NextPath = Annotated[str | None, Query(alias="next", max_length=500)]


def _form_page(
    request: Request,
    template: str,
    status_code: int = 200,
    **context: Any,
) -> HTMLResponse:
    """A sign-in form with a fresh CSRF token, double-submitted in a cookie."""
    token = request.cookies.get(CSRF_COOKIE) or secrets.token_urlsafe(24)
    response = render(request, template, None, status_code, None, csrf=token, **context)
    response.set_cookie(
        CSRF_COOKIE, token, httponly=True, samesite="lax", secure=secure(request), path="/"
    )
    return response


def _signed_in(request: Request, services: Services, actor_id: UUID, next_path: str) -> Response:
    opened = sign_ins(services).open(actor_id, services.app.clock.now())
    response = RedirectResponse(safe_next(next_path), status_code=303)
    lifetime = int(sign_ins(services).session_lifetime.total_seconds())
    set_session_cookie(response, request, opened.cookie, lifetime)
    response.delete_cookie(CSRF_COOKIE, path="/")
    return response


@router.get("/signin")
def signin_form(request: Request, services: ServicesDep, next_path: NextPath = None) -> Response:
    """Paste a token to sign in (or follow a sign-in link from your administrator)."""
    if find_viewer(services, request.cookies.get(COOKIE)) is not None:
        return RedirectResponse(safe_next(next_path), status_code=303)
    return _form_page(request, "signin.html", next=safe_next(next_path), error=None)


@router.post("/signin")
def signin_with_token(
    request: Request,
    services: ServicesDep,
    token: Annotated[str, Form(max_length=500)] = "",
    csrf: Annotated[str, Form(max_length=100)] = "",
    next_path: Annotated[str, Form(alias="next", max_length=500)] = "/",
) -> Response:
    """Sign in with a bearer token: the same check as the API's Authorization header."""
    check_csrf(request.cookies.get(CSRF_COOKIE), csrf)
    try:
        with services.reading() as cursor:
            principal = authenticate(cursor, f"Bearer {token.strip()}")
    except Problem:
        services.catch_up()  # a token issued a moment ago may not be projected yet
        try:
            with services.reading() as cursor:
                principal = authenticate(cursor, f"Bearer {token.strip()}")
        except Problem:
            return _form_page(
                request,
                "signin.html",
                401,
                next=safe_next(next_path),
                error="That token is unknown or was revoked. Paste the whole token, cp_…",
            )
    return _signed_in(request, services, principal.id, next_path)


@router.get("/signin/{code}")
def signin_link(code: str, request: Request, services: ServicesDep) -> HTMLResponse:
    """A one-time sign-in link: shows whom it signs in; the button spends it."""
    holder = sign_ins(services).link_holder(code[:100], services.app.clock.now())
    if isinstance(holder, LinkRefusal):
        return _form_page(request, "signin.html", 410, next="/", error=holder.value)
    with services.reading() as cursor:
        found = actor(cursor, holder)
    return _form_page(request, "signin_link.html", code=code, person=found)


@router.post("/signin/{code}")
def spend_signin_link(
    code: str,
    request: Request,
    services: ServicesDep,
    csrf: Annotated[str, Form(max_length=100)] = "",
) -> Response:
    """Spend a one-time link (on every process at once) and open a session."""
    check_csrf(request.cookies.get(CSRF_COOKIE), csrf)
    holder = sign_ins(services).spend_link(code[:100], services.app.clock.now())
    if isinstance(holder, LinkRefusal):
        return _form_page(request, "signin.html", 410, next="/", error=holder.value)
    return _signed_in(request, services, holder, "/")


@router.post("/signout")
def signout(
    request: Request,
    services: ServicesDep,
    csrf: Annotated[str, Form(max_length=100)] = "",
) -> Response:
    """End the session on every process and forget the cookie."""
    cookie = request.cookies.get(COOKIE)
    viewer: Viewer | None = find_viewer(services, cookie)
    if viewer is not None and cookie:
        check_csrf(viewer.session.csrf, csrf)
        sign_ins(services).close(cookie)
    response = RedirectResponse("/signin", status_code=303)
    response.delete_cookie(COOKIE, path="/")
    return response
