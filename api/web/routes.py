"""The web workspace assembled: its routers and error pages added to the app."""

from __future__ import annotations

from fastapi import FastAPI

from api.web import (
    admin,
    admin_partners,
    admin_webhooks,
    assets,
    live,
    pages,
    plan_routes,
    preferences,
    signin,
)
from api.web.rendering import install_error_pages


def install(app: FastAPI) -> None:
    """Add the pages, their files and the offline API docs; errors on pages render as pages.

    Call after ``api.errors.install`` (its handlers are made page-aware, not replaced).
    """
    routers = (
        assets,
        signin,
        live,
        pages,
        plan_routes,
        admin,
        admin_partners,
        admin_webhooks,
        preferences,
    )
    for module in routers:
        app.include_router(module.router)
    install_error_pages(app)
