"""Pages and their forms over HTTP, as a browser sends them: a signed-in session, the
hidden fields a page rendered, and what a person types."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import timedelta
from html.parser import HTMLParser
from typing import Any
from uuid import UUID

import httpx
from fastapi.testclient import TestClient

from api.web.sessions import SignIns
from api.web.viewer import COOKIE
from tests.api.world import Caller


@dataclass
class FormSeen:
    """A form of a page: where it posts, and what it would send untouched."""

    action: str
    values: dict[str, list[str]] = field(default_factory=dict)
    buttons: list[tuple[str, str | None]] = field(default_factory=list)

    def filled(self, **typed: str | list[str]) -> dict[str, str | list[str]]:
        """What the browser sends after a person typed ``typed``."""
        sent: dict[str, str | list[str]] = {
            k: v[0] if len(v) == 1 else v for k, v in self.values.items()
        }
        sent.update(typed)
        return sent


class Forms(HTMLParser):
    """Every form of a page by its id, with its fields' current values."""

    def __init__(self) -> None:
        super().__init__()
        self.forms: dict[str, FormSeen] = {}
        self.current: FormSeen | None = None
        self.select: str | None = None
        self.textarea: str | None = None
        self.text: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = {k: v or "" for k, v in attrs}
        if tag == "form" and "id" in a:
            self.current = FormSeen(a.get("action", ""))
            self.forms[a["id"].removeprefix("form-")] = self.current
        form = self.current
        if form is None:
            return
        name = a.get("name", "")
        if tag == "input" and name:
            if a.get("type") in {"checkbox", "radio"} and "checked" not in a:
                form.values.setdefault(name, [])
                return
            form.values.setdefault(name, []).append(a.get("value", ""))
        elif tag == "select":
            self.select = name
            form.values.setdefault(name, [])
        elif tag == "option" and self.select and "selected" in a:
            form.values[self.select] = [a.get("value", "")]
        elif tag == "textarea":
            self.textarea, self.text = name, []
        elif tag == "button":
            form.buttons.append((a.get("type", ""), a.get("formaction")))

    def handle_data(self, data: str) -> None:
        if self.textarea is not None:
            self.text.append(data)

    def handle_endtag(self, tag: str) -> None:
        if tag == "form":
            self.current = None
        elif tag == "select":
            self.select = None
        elif tag == "textarea" and self.current is not None and self.textarea is not None:
            self.current.values[self.textarea] = ["".join(self.text)]
            self.textarea = None


def forms_of(html: str) -> dict[str, FormSeen]:
    """The forms of a page by id (without the ``form-`` prefix)."""
    parser = Forms()
    parser.feed(html)
    return parser.forms


@dataclass
class Visitor:
    """A signed-in browser session of one actor, over the test client."""

    client: TestClient
    caller: Caller
    cookie: str

    @property
    def headers(self) -> dict[str, str]:
        """The session cookie and an HTML Accept header, as a browser sends them."""
        return {"Cookie": f"{COOKIE}={self.cookie}", "Accept": "text/html"}

    def get(self, path: str) -> httpx.Response:
        """Open a page."""
        return self.client.get(path, headers=self.headers, follow_redirects=False)

    def forms(self, path: str) -> dict[str, FormSeen]:
        """The forms of a page (which must open)."""
        page = self.get(path)
        assert page.status_code == 200, page.text[:500]
        return forms_of(page.text)

    def send(self, action: str, data: dict[str, Any]) -> httpx.Response:
        """Post a form as a browser does (urlencoded), without following the redirect."""
        return self.client.post(action, data=data, headers=self.headers, follow_redirects=False)


def visiting(client: TestClient, caller: Caller) -> Visitor:
    """A session for the caller, as a sign-in opens one."""
    services = client.app.state.services  # type: ignore[attr-defined]
    signins = SignIns(services.store, session_lifetime=timedelta(days=400))  # time moves in tests
    opened = signins.open(UUID(caller.id), services.app.clock.now() - timedelta(seconds=1))
    return Visitor(client, caller, opened.cookie)
