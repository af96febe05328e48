"""Forms on pages: fields with labels, what was typed, and refusals in words next to the field.

A form is data (``Form`` and its ``Field``s) rendered by one macro (``forms.html``). Every
rendered form carries the session's CSRF token, an idempotency key of its own and, on a plan,
the plan version it was rendered on. What a browser sends is validated by the same pydantic
models as the JSON API's bodies; the domain's refusals are placed next to the field they name.
"""

from __future__ import annotations

import re
import secrets
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Annotated, Any, TypeVar

from fastapi import Depends, Request
from pydantic import BaseModel, ValidationError

from api.web.viewer import Viewer, check_csrf

M = TypeVar("M", bound=BaseModel)
Submitted = dict[str, str | list[str]]
MAX_FIELDS = 200


@dataclass(frozen=True)
class Option:
    """One choice of a select, radio or checkbox field."""

    value: str
    label: str


@dataclass(frozen=True)
class Field:
    """A labelled field: ``kind`` is text, textarea, amount, date, url, number, select, radio,
    checkboxes; ``also`` are words by which the domain's messages name it."""

    name: str
    label: str
    kind: str = "text"
    value: str | tuple[str, ...] = ""
    required: bool = False
    hint: str | None = None
    options: tuple[Option, ...] = ()
    also: tuple[str, ...] = ()
    error: str | None = None

    @property
    def chosen(self) -> tuple[str, ...]:
        """The chosen values of a checkboxes field."""
        return self.value if isinstance(self.value, tuple) else (self.value,)


@dataclass(frozen=True)
class Form:
    """A form of a page: where it posts, its button's verb, fields, and what a click does."""

    id: str
    action: str
    verb: str
    title: str
    fields: tuple[Field, ...] = ()
    consequence: str | None = None
    version: int | None = None
    key: str = field(default_factory=lambda: new_key())  # noqa: PLW0108 (defined below)
    error: str | None = None
    more: tuple[tuple[str, str], ...] = ()
    """Other buttons of the same form: (verb, action), e.g. Reject beside Accept."""
    open: bool = False

    @property
    def has_errors(self) -> bool:
        """Whether the form was refused."""
        return self.error is not None or any(f.error for f in self.fields)

    def as_typed(self, sent: Submitted) -> Form:
        """The form showing what was sent (never the hidden key, CSRF or version)."""
        typed = []
        for f in self.fields:
            got = sent.get(f.name, "")
            many = got if isinstance(got, list) else [got] if got else []
            value: str | tuple[str, ...] = (
                tuple(many) if f.kind == "checkboxes" else (many[0] if many else "")
            )
            typed.append(replace(f, value=value))
        return replace(self, fields=tuple(typed), open=True)

    def with_version(self, version: int | None, key: str) -> Form:
        """The same form (as typed) to be sent again on a version, under a fresh key."""
        return replace(self, version=version, key=key, open=True)

    def refused(self, message: str) -> Form:
        """The form with a refusal placed next to the field it names (else on the form)."""
        words = humane(message, self.fields)
        target = named_field(message, self.fields)
        if target is None:
            return replace(self, error=words, open=True)
        fields = tuple(replace(f, error=words) if f.name == target else f for f in self.fields)
        return replace(self, fields=fields, open=True)

    def invalid(self, errors: Sequence[tuple[str, str]]) -> Form:
        """The form with validation errors: (field name, message in words)."""
        by_name = dict(reversed(errors))
        fields = tuple(replace(f, error=by_name.get(f.name, f.error)) for f in self.fields)
        stray = [m for n, m in errors if n not in {f.name for f in self.fields}]
        return replace(self, fields=fields, error=stray[0] if stray else self.error, open=True)


def new_key() -> str:
    """A form's own idempotency key: a double click or a re-sent form records once."""
    return "web-" + secrets.token_urlsafe(18)


def named_field(message: str, fields: Sequence[Field]) -> str | None:
    """The field a domain message is about: the one it starts with, else one it names."""
    for f in fields:
        if re.match(rf"{re.escape(f.name)}\b", message):
            return f.name
    for f in fields:
        for word in (f.name, *f.also):
            if re.search(rf"\b{re.escape(word)}\b", message):
                return f.name
    return None


def humane(message: str, fields: Sequence[Field]) -> str:
    """A domain message with field identifiers (``due_date``) said as their labels."""
    for f in fields:
        if "_" in f.name:
            message = re.sub(rf"\b{re.escape(f.name)}\b", f.label.lower(), message)
    return message[:1].upper() + message[1:]


async def submitted(request: Request) -> Submitted:
    """What a browser form sent: each name to its text (several values as a list)."""
    async with request.form(max_files=0, max_fields=MAX_FIELDS) as data:
        sent: Submitted = {}
        for name, value in data.multi_items():
            if not isinstance(value, str):
                continue
            previous = sent.get(name)
            if previous is None:
                sent[name] = value
            else:
                sent[name] = [*(previous if isinstance(previous, list) else [previous]), value]
        return sent


SubmittedDep = Annotated[Submitted, Depends(submitted)]


def text(sent: Mapping[str, str | list[str]], name: str) -> str:
    """One text a form sent ('' when absent)."""
    value = sent.get(name, "")
    return value[0] if isinstance(value, list) else value


def checked_csrf(viewer: Viewer, sent: Submitted) -> None:
    """403 unless the form carried its page's CSRF token (as the sign-out form does)."""
    check_csrf(viewer.session.csrf, text(sent, "csrf"))


def parsed(
    model: type[M], sent: Submitted, fields: Sequence[Field], lists: Sequence[str] = ()
) -> M | list[tuple[str, str]]:
    """The body model from what was sent, or the errors in words, by field.

    Blank optional texts are absent, as in a JSON body without them; ``lists`` are fields of
    several values (checkboxes; a textarea of one item per line).
    """
    body: dict[str, Any] = {}
    kinds = {f.name: f.kind for f in fields}
    for name in model.model_fields:
        if name not in sent:
            if name in lists and kinds.get(name) == "checkboxes":
                body[name] = []  # none ticked: "choose at least one", not "required"
            continue
        value = sent[name]
        if name in lists:
            items = value if isinstance(value, list) else value.splitlines()
            body[name] = [i.strip() for i in items if i.strip()]
        else:
            one = value[0] if isinstance(value, list) else value
            if one.strip() == "":
                continue
            body[name] = one.strip() if kinds.get(name) != "textarea" else one
    try:
        return model.model_validate(body)
    except ValidationError as error:
        labels = {f.name: f.label for f in fields}
        return [in_words(e, labels) for e in error.errors()]


def in_words(error: Mapping[str, Any], labels: Mapping[str, str]) -> tuple[str, str]:
    """A pydantic error as (field, a sentence a person understands)."""
    location = [str(part) for part in error.get("loc", ())]
    name = location[0] if location else ""
    label = labels.get(name, name.replace("_", " ").capitalize() or "The form")
    kind = str(error.get("type", ""))
    context = error.get("ctx") or {}
    if kind == "missing":
        return name, f"{label} is required."
    if kind == "string_too_long":
        return name, f"{label} must be at most {context.get('max_length')} characters."
    if kind.startswith(("date_", "datetime_")):
        return name, f"{label} must be a date, such as 2026-03-31."
    if kind.startswith("int_"):
        return name, f"{label} must be a whole number."
    if kind in {"greater_than_equal", "less_than_equal"}:
        return name, f"{label} is out of range: {str(error.get('msg', '')).lower()}."
    if kind in {"literal_error", "uuid_parsing", "uuid_type", "enum"}:
        return name, f"Choose one of the options for {label.lower()}."
    if kind == "too_short":
        return name, f"Choose at least one for {label.lower()}."
    if kind == "too_long":
        return name, f"{label} has too many items."
    message = str(error.get("msg", "is not valid")).removeprefix("Value error, ")
    if name in labels and "number" in message:
        return name, f"{label} must be a number, such as 20 or 12.5."
    return name, f"{label} {message}."
