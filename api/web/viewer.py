"""Who is looking at a page: the session cookie to the signed-in actor, and form CSRF tokens."""

from __future__ import annotations

import hmac
import secrets
from dataclasses import dataclass
from typing import Annotated
from urllib.parse import quote

from fastapi import Depends, Request, Response

from api.auth import Principal
from api.deps import ServicesDep
from api.errors import Problem
from api.services import Services
from api.web.sessions import Session, SignIns
from projections.models.directory import actor, holds_live_token

COOKIE = "counterpart_session"
CSRF_COOKIE = "counterpart_csrf"


class SignInRequired(Problem):
    """A page needs a signed-in browser; pages answer with the sign-in page (a redirect)."""

    def __init__(self, next_path: str) -> None:
        super().__init__(401, "sign in to see this page")
        self.next_path = next_path


@dataclass(frozen=True)
class Viewer:
    """The signed-in actor of a page and the session's CSRF token for its forms."""

    principal: Principal
    session: Session

    @property
    def home_label(self) -> str:
        """How the header names the person."""
        return f"{self.principal.name} ({self.principal.role})"


def sign_ins(services: Services) -> SignIns:
    """The sessions and sign-in links of this deployment."""
    return SignIns(services.store)


def find_viewer(services: Services, cookie: str | None) -> Viewer | None:
    """The viewer of a session cookie: its session is live and its actor still holds an
    unrevoked token (revoking an actor's tokens ends their web sessions too)."""
    if not cookie or len(cookie) > 200:
        return None
    now = services.app.clock.now()
    with services.reading() as cursor:
        session = sign_ins(services).find(cursor, cookie, now)
        if session is None:
            return None
        found = actor(cursor, session.actor_id)
        if found is None or not holds_live_token(cursor, session.actor_id):
            return None
    return Viewer(Principal.of(found), session)


def get_viewer(request: Request, services: ServicesDep) -> Viewer:
    """The signed-in viewer; otherwise the page answers with the sign-in page."""
    viewer = find_viewer(services, request.cookies.get(COOKIE))
    if viewer is None:
        target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
        raise SignInRequired(target)
    request.state.actor_id = str(viewer.principal.id)
    return viewer


ViewerDep = Annotated[Viewer, Depends(get_viewer)]


def sign_in_location(next_path: str) -> str:
    """The sign-in page, coming back to a page afterwards."""
    return "/signin" + (f"?next={quote(next_path, safe='')}" if next_path not in {"", "/"} else "")


def safe_next(value: str | None) -> str:
    """Where to go after signing in: a path on this site only (never another host)."""
    if not value or not value.startswith("/") or value.startswith("//") or "\\" in value:
        return "/"
    return value


def secure(request: Request) -> bool:
    """Whether the browser reached us over HTTPS (directly or via a trusted proxy)."""
    return request.url.scheme == "https"


def set_session_cookie(response: Response, request: Request, cookie: str, max_age: int) -> None:
    """The session cookie: HttpOnly, SameSite=Lax, Secure behind HTTPS, with an expiry."""
    response.set_cookie(
        COOKIE,
        cookie,
        max_age=max_age,
        httponly=True,
        samesite="lax",
        secure=secure(request),
        path="/",
    )


def form_token(request: Request, response: Response) -> str:
    """The CSRF token of a sign-in form (before any session): double-submitted in a cookie."""
    token = request.cookies.get(CSRF_COOKIE) or secrets.token_urlsafe(24)
    response.set_cookie(
        CSRF_COOKIE, token, httponly=True, samesite="lax", secure=secure(request), path="/"
    )
    return token


def check_csrf(expected: str | None, sent: str | None) -> None:
    """403 unless a form carried the token its page was given."""
    if not expected or not sent or not hmac.compare_digest(expected, sent):
        raise Problem(403, "the form was stale or not sent from this site; reload and try again")
