"""Who may open which page: one table, on the JSON API's own role sets."""

from __future__ import annotations

from api.auth import Principal, require_role
from api.routes.audit import INTEGRITY
from api.routes.scores import LEADERSHIP

PAGES: dict[str, tuple[frozenset[str], str]] = {
    "portfolio": (LEADERSHIP, "the portfolio"),
    "manager": (LEADERSHIP, "a manager's accountability"),
    "audit": (INTEGRITY, "the audit page"),
    "export": (INTEGRITY, "exporting the whole ledger"),
}
"""Pages for some roles only, each with the roles (as the matching JSON route has them) and
what the page is called in the 403 page."""


def require_page(principal: Principal, page: str) -> None:
    """403 (the error page) unless the viewer's role may open the page."""
    roles, what = PAGES[page]
    require_role(principal, roles, what)


def home_of(principal: Principal) -> str | None:
    """Where a role's home is, when it is not ``/`` (leadership: the portfolio)."""
    return "/portfolio" if principal.role in LEADERSHIP else None
