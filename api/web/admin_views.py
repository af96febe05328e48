"""What the admin pages show: lists a page of 50 rows at a time, and each row's forms."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any
from uuid import UUID

from api.deps import Page, encode_cursor
from api.services import Services
from api.web.forms import Field, Form, Option
from projections.models.directory import (
    actor,
    actors,
    actors_in_role,
    holds_live_token,
    partners,
)

ROWS = 50
"""Rows per page of every admin list."""

ROLES = (
    Option("manager", "Channel manager (vendor side)"),
    Option("partner", "Partner contact (partner side)"),
    Option("leader", "Vendor leader"),
    Option("auditor", "Auditor"),
    Option("admin", "Administrator"),
)


def page_of(rows: list[Any], page: Page, key: str = "id") -> tuple[list[Any], str | None]:
    """Up to ``ROWS`` rows and the cursor of the next page (None: this is the last)."""
    more = len(rows) > page.limit
    rows = rows[: page.limit]
    return rows, encode_cursor(str(rows[-1][key])) if more and rows else None


def placed(forms: Sequence[Form], failed: Form | None) -> list[Form]:
    """The page's fresh forms, with a refused one (as typed) in place of its fresh twin."""
    if failed is None:
        return list(forms)
    return [failed.with_version(None, f.key) if f.id == failed.id else f for f in forms]


# ------------------------------------------------------------------- actors


def register_actor_form(partner_id: str = "") -> Form:
    """Register an actor (their first token is shown once, on the answer)."""
    return Form(
        "register-actor",
        "/admin/actors",
        "Register",
        "Register an actor",
        (
            Field("name", "Name", "text", "", True),
            Field("email", "E-mail", "email", "", True, None, (), ("email",)),
            Field(
                "role", "Role", "select", "partner" if partner_id else "manager", True, None, ROLES
            ),
            Field(
                "partner_id",
                "Partner id",
                "text",
                partner_id,
                False,
                "Partner contacts only: the id of their partner, from the Partners page.",
                (),
                ("partner", "partner contact"),
            ),
        ),
        "Their first token is shown once, on the next page: give it to them by a channel you "
        "trust, or issue them a sign-in link instead.",
        open=bool(partner_id),
    )


def actor_forms(row: dict[str, Any]) -> list[Form]:
    """The forms of an actor's row: a sign-in link, another token, revoke."""
    base, who = f"/admin/actors/{row['id']}", row["name"]
    return [
        Form(f"link-{row['id']}", f"{base}/signin-link", "Issue sign-in link", who),
        Form(f"token-{row['id']}", f"{base}/tokens", "Issue token", who),
        Form(f"revoke-{row['id']}", f"{base}/revoke", "Revoke", who),
    ]


def actors_page(
    services: Services, page: Page, failed: Form | None = None, partner_id: str = ""
) -> dict[str, Any]:
    """A page of actors in id order, each with whether a token of theirs still works, their
    partner, and their forms; the register form (a refused one as typed)."""
    with services.reading() as cursor:
        found = actors(cursor, after=page.after, limit=page.limit + 1)
        rows, next_cursor = page_of(found, page)
        ids = sorted({UUID(r["partner_id"]) for r in rows if r["partner_id"]})
        names = {p["id"]: p["name"] for p in partners(cursor, partner_ids=ids, limit=len(ids))}
        live = {r["id"]: holds_live_token(cursor, UUID(r["id"])) for r in rows}
    shown = [
        {
            **r,
            "partner_name": names.get(r["partner_id"]),
            "live": live[r["id"]],
            "forms": placed(actor_forms(r), failed),
        }
        for r in rows
    ]
    register = placed([register_actor_form(partner_id)], failed)[0]
    return {
        "rows": shown,
        "next_cursor": next_cursor,
        "first_page": page.after is None,
        "register": register,
    }


def actor_row(services: Services, actor_id: UUID) -> dict[str, Any] | None:
    """One actor (None: unknown)."""
    with services.reading() as cursor:
        return actor(cursor, actor_id)


# ----------------------------------------------------------------- partners

MANAGERS_IN_A_LIST = 500
"""Up to this many managers are offered as a list; beyond, the form asks for a manager's id."""


def manager_field(
    services: Services, label: str, hint: str | None = None, chosen: str | None = None
) -> Field:
    """Choose a channel manager: a list of them by name (their id, when there are very many);
    ``chosen`` is selected first (else the first by name)."""
    with services.reading() as cursor:
        found = actors_in_role(cursor, "manager", limit=MANAGERS_IN_A_LIST + 1)
    if len(found) > MANAGERS_IN_A_LIST:
        return Field("manager_id", label, "text", "", True, "The manager's id, from Actors.")
    options = tuple(Option(m["id"], f"{m['name']} ({m['email']})") for m in found)
    value = chosen or (options[0].value if options else "")
    return Field("manager_id", label, "select", value, True, hint, options, ("manager",))


def register_partner_form(services: Services) -> Form:
    """Register a partner organisation and the manager who owns it."""
    return Form(
        "register-partner",
        "/admin/partners",
        "Register",
        "Register a partner",
        (
            Field("name", "Name", "text", "", True, None),
            manager_field(services, "Managed by", "The channel manager who owns the partnership."),
        ),
        "Then register its contacts (Add a contact, in the list below).",
    )


def reassign_form(services: Services, partner: dict[str, Any]) -> Form:
    """Hand a partnership to another channel manager."""
    return Form(
        "reassign",
        f"/admin/partners/{partner['id']}/manager",
        "Reassign",
        f"Hand “{partner['name']}” to another manager",
        (manager_field(services, "New manager", None, partner["manager_id"]),),
        "The new manager sees and acts for the vendor side from now on; the previous manager "
        "no longer does. The plans, their history and their scores stay as they are.",
        open=True,
    )


def partners_page(services: Services, page: Page, failed: Form | None = None) -> dict[str, Any]:
    """A page of partners in id order with their managers' names; the register form."""
    with services.reading() as cursor:
        found = partners(cursor, after=page.after, limit=page.limit + 1)
        rows, next_cursor = page_of(found, page)
        managers = {m: actor(cursor, UUID(m)) for m in {r["manager_id"] for r in rows}}
    shown = [{**r, "manager": managers.get(r["manager_id"])} for r in rows]
    return {
        "rows": shown,
        "next_cursor": next_cursor,
        "first_page": page.after is None,
        "register": placed([register_partner_form(services)], failed)[0],
    }


def partner_row(services: Services, partner_id: UUID) -> dict[str, Any] | None:
    """One partner with its manager (None: unknown)."""
    with services.reading() as cursor:
        found = partners(cursor, partner_ids=[partner_id], limit=1)
        if not found:
            return None
        return {**found[0], "manager": actor(cursor, UUID(found[0]["manager_id"]))}
