"""Acting as an administrator from the browser: each admin form runs the JSON API's own route
function (its role check, command or service, and Idempotency-Key handling) under the form's
key, so the page, the API and the CLI share every rule; a refusal keeps the form as typed."""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from fastapi import Request
from fastapi.responses import RedirectResponse, Response
from pydantic import BaseModel

from api.auth import Principal, require_role
from api.deps import Command
from api.errors import Problem, domain_problem
from api.routes.directory import ADMIN
from api.services import Services
from api.web.forms import Form, Submitted, checked_csrf, parsed, text
from api.web.viewer import Viewer
from ledger.domain import LedgerError
from ledger.idempotency import KeyReused

SENT_ALREADY = (
    "This form was sent already, with other values; nothing more was recorded. "
    "The forms below are the current ones."
)


def require_admin(principal: Principal, what: str = "the admin pages") -> None:
    """403 (the error page) unless the viewer is an administrator."""
    require_role(principal, ADMIN, what)


@dataclass(frozen=True)
class Answered:
    """What the API's route answered: its JSON body, and whether it was a repeat of the key
    (a repeat never carries a secret again)."""

    body: dict[str, Any]
    replayed: bool


@dataclass(frozen=True)
class Refused:
    """The form as typed with the refusal placed next to its field, and the page's status."""

    form: Form
    status: int


Call = Callable[[Command], Response]
"""A JSON API route function with its path and body bound, given the command envelope."""


def envelope(request: Request, services: Services, viewer: Viewer, sent: Submitted) -> Command:
    """The API's command envelope for a form: the signed-in actor and the form's own key."""
    return Command(request, services, viewer.principal, text(sent, "key") or None, None)


def through_api(
    request: Request,
    services: Services,
    viewer: Viewer,
    sent: Submitted,
    *,
    shown: Form,
    call: Call,
) -> Answered | Refused:
    """Run the route under the form's key; a domain or input refusal comes back in words
    (status from the one error table), a missing role stays the 403 page."""
    try:
        response = call(envelope(request, services, viewer, sent))
    except KeyReused as error:
        return Refused(shown.refused(SENT_ALREADY), domain_problem(error).status_code)
    except LedgerError as error:
        return Refused(shown.refused(str(error)), domain_problem(error).status_code)
    except Problem as error:
        if error.status in {401, 403}:
            raise
        return Refused(shown.refused(error.detail), error.status)
    body = json.loads(bytes(response.body)) if response.body else {}
    replayed = response.headers.get("Idempotent-Replayed") == "true"
    return Answered(body if isinstance(body, dict) else {}, replayed)


def checked_form(
    viewer: Viewer,
    sent: Submitted,
    form: Form,
    model: type[BaseModel] | None,
    *,
    lists: Sequence[str] = (),
    extra: dict[str, Any] | None = None,
) -> tuple[Form, BaseModel | None, Refused | None]:
    """CSRF first, then the form's fields through the API's body model: the form as typed,
    the body, or a refusal with each field's error in words (422)."""
    checked_csrf(viewer, sent)
    shown = form.as_typed(sent)
    if model is None:
        return shown, None, None
    found = parsed(model, {**sent, **(extra or {})}, form.fields, lists)
    if isinstance(found, list):
        return shown, None, Refused(shown.invalid(found), 422)
    return shown, found, None


def redirected(location: str) -> Response:
    """POST-redirect-GET: a refresh of the answer never re-sends the form."""
    return RedirectResponse(location, status_code=303, headers={"Cache-Control": "no-store"})
