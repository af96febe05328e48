"""The admin pages over HTTP, on both backends: admins only; each form through the API's own
route; a secret shown once, on the answer to the POST; refusals in words, nothing stored;
one record per form however often it is sent; CSRF; lists 50 rows a page."""

from __future__ import annotations

import re
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from html import unescape
from typing import Any
from uuid import UUID

import pytest

from ledger.clock import SimulatedClock
from ledger.domain import Actor
from tests.api.world import World, a_world
from tests.conftest import BACKENDS, START, a_fresh_ledger
from tests.nudges.receivers import a_nudging_server, a_receiver
from tests.web.form_pages import Visitor, forms_of, visiting


@pytest.fixture(scope="module", params=BACKENDS)
def world(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[World]:
    """One world per backend, delivering webhooks to loopback (the clock stands still)."""
    with a_fresh_ledger(request.param, tmp_path_factory.mktemp("admin")) as settings:
        clock = SimulatedClock(START)
        with a_nudging_server(settings, clock) as client:
            yield a_world(client, settings, clock)


@pytest.fixture(scope="module")
def admin(world: World) -> Visitor:
    """The administrator in a browser."""
    return visiting(world.client, world.admin)


def secret_on(html: str) -> str | None:
    """The secret a page shows once (None: it shows none)."""
    found = re.search(r'id="secret" class="token" type="text" readonly value="([^"]+)"', html)
    return found.group(1) if found else None


def error_of(html: str, element_id: str) -> str:
    """The text of the element with this id."""
    found = re.search(rf'id="{re.escape(element_id)}">([^<]*)<', html)
    assert found, f"no #{element_id} in the page"
    return unescape(found.group(1))


def works(world: World, token: str) -> bool:
    """Whether a bearer token is accepted by the API."""
    answer = world.client.get("/v1/me", headers={"Authorization": f"Bearer {token}"})
    return answer.status_code == 200


def test_only_an_administrator_opens_the_admin_pages(world: World) -> None:
    for name in ("manager", "contact", "leader", "auditor"):
        visitor = visiting(world.client, world.callers()[name])
        page = visitor.get("/admin/actors")
        assert page.status_code == 403, name
        assert "is for admin" in page.text
        assert 'href="/admin"' not in page.text  # no link to what they may not open
    anonymous = world.client.get(
        "/admin/actors", headers={"Accept": "text/html"}, follow_redirects=False
    )
    assert anonymous.status_code == 303
    assert anonymous.headers["location"].startswith("/signin")
    home = visiting(world.client, world.admin).get("/portfolio")
    assert 'href="/admin"' in home.text


def test_a_manager_cannot_post_an_admin_form_either(world: World, admin: Visitor) -> None:
    form = admin.forms("/admin/actors")["register-actor"]
    manager = visiting(world.client, world.manager)
    csrf = forms_of(manager.get(f"/managers/{world.manager.id}").text)
    token = next(iter(csrf.values())).values["csrf"][0] if csrf else ""
    before = world.head()
    sent = manager.send(
        form.action, form.filled(name="Eve", email="eve@x.example", role="admin", csrf=token)
    )
    assert sent.status_code == 403
    assert world.head() == before


def test_registering_shows_the_first_token_once_and_a_resend_records_once(
    world: World, admin: Visitor
) -> None:
    form = admin.forms("/admin/actors")["register-actor"]
    typed = form.filled(name="Nia New", email="nia@vendor.example", role="manager")
    before = world.head()
    with ThreadPoolExecutor(2) as pool:  # a double click: two posts at once
        answers = list(pool.map(lambda _: admin.send(form.action, typed), range(2)))
    shown = [secret_on(a.text) for a in answers]
    tokens = [t for t in shown if t]
    assert len(tokens) == 1, "the token is shown on one answer only"
    assert works(world, tokens[0])
    again = admin.send(form.action, typed)  # the back button and a re-sent form
    assert secret_on(again.text) is None
    assert "shown on the first answer only" in again.text
    assert world.head() == before + 2  # Registered and TokenIssued, once
    assert "no-store" in answers[0].headers["cache-control"]
    listed = admin.get("/admin/actors").text
    assert "Nia New" in listed
    assert tokens[0] not in listed


REFUSALS = [
    # (typed, the field, the message next to it)
    ({"name": "", "email": "a@b.example", "role": "manager"}, "name", "Name is required."),
    (
        {"name": "Pia", "email": "pia@p.example", "role": "partner"},
        "partner_id",
        "A partner contact must belong to a partner (partner id is required)",
    ),
    (
        {"name": "Pia", "email": "pia@p.example", "role": "partner", "partner_id": "nope"},
        "partner_id",
        "Choose one of the options for partner id.",
    ),
    ({"name": "Pia", "email": "pia@p.example", "role": "king"}, "role", "Choose one of the"),
]


@pytest.mark.parametrize(("typed", "field", "message"), REFUSALS)
def test_a_refused_registration_says_why_next_to_the_field_and_stores_nothing(
    world: World, admin: Visitor, typed: dict[str, str], field: str, message: str
) -> None:
    form = admin.forms("/admin/actors")["register-actor"]
    before = world.head()
    answer = admin.send(form.action, form.filled(**typed))
    assert answer.status_code == 422
    assert error_of(answer.text, f"register-actor-{field}-error").startswith(message)
    kept = forms_of(answer.text)["register-actor"]
    assert kept.values["name"] == [typed["name"]]  # the form as typed
    assert kept.values["email"] == [typed["email"]]
    assert kept.values["key"] != form.values["key"]  # a fresh key for the retry
    assert world.head() == before


def test_a_form_without_its_csrf_token_is_refused(world: World, admin: Visitor) -> None:
    forms = admin.forms("/admin/actors")
    before = world.head()
    typed = forms["register-actor"].filled(name="Cy", email="cy@x.example", role="leader")
    del typed["csrf"]
    assert admin.send("/admin/actors", typed).status_code == 403
    revoke = forms[f"revoke-{world.leader.id}"]
    assert admin.send(revoke.action, revoke.filled(csrf="forged")).status_code == 403
    assert world.head() == before
    assert works(world, world.leader.token)


def test_issuing_a_token_and_a_link_shows_each_once_and_revoking_stops_them(
    world: World, admin: Visitor
) -> None:
    person = world.auditor
    forms = admin.forms("/admin/actors")
    issued = admin.send(forms[f"token-{person.id}"].action, forms[f"token-{person.id}"].filled())
    token = secret_on(issued.text)
    assert issued.status_code == 201
    assert token
    assert works(world, token)
    assert works(world, person.token)
    ledger = world.client.app.state.services.app  # type: ignore[attr-defined]
    issued_version = ledger.load(Actor, UUID(person.id), fresh=True).version
    repeat = admin.send(forms[f"token-{person.id}"].action, forms[f"token-{person.id}"].filled())
    assert secret_on(repeat.text) is None
    assert works(world, token)  # a double click issues no second token and ends no first one
    assert ledger.load(Actor, UUID(person.id), fresh=True).version == issued_version
    link_form = forms[f"link-{person.id}"]
    linked = admin.send(link_form.action, link_form.filled())
    url = secret_on(linked.text)
    assert url
    assert "/signin/" in url
    assert secret_on(admin.send(link_form.action, link_form.filled()).text) is None
    code = url.rsplit("/", 1)[1]
    assert world.client.get(f"/signin/{code}").status_code == 200  # whom it signs in
    revoke = forms[f"revoke-{person.id}"]
    done = admin.send(revoke.action, revoke.filled())
    assert done.status_code == 303
    assert done.headers["location"] == "/admin/actors?done=revoked"
    assert not works(world, token)
    assert not works(world, person.token)
    page = admin.get(done.headers["location"]).text
    assert "Revoked: every token of theirs stopped working" in page
    assert f"revoke-{person.id}" not in forms_of(page)  # nothing left to revoke


def test_the_actors_list_pages_fifty_rows(world: World, admin: Visitor) -> None:
    for n in range(50):
        world.admin.post(
            "/v1/actors", {"name": f"Many {n:02}", "email": f"m{n}@x.example", "role": "leader"}
        )
    first = admin.get("/admin/actors").text
    rows = re.findall(r'<th scope="row" id="actor-', first)
    assert len(rows) == 50
    following = re.search(r'href="(/admin/actors\?cursor=[^"]+)" rel="next"', first)
    assert following
    second = admin.get(following.group(1).replace("&amp;", "&")).text
    assert 0 < len(re.findall(r'<th scope="row" id="actor-', second)) <= 50
    assert 'href="/admin/actors">First page' in second


# ----------------------------------------------------------------- partners


def test_registering_a_partner_redirects_and_a_resend_records_once(
    world: World, admin: Visitor
) -> None:
    form = admin.forms("/admin/partners")["register-partner"]
    typed = form.filled(name="Initech", manager_id=world.other_manager.id)
    before = world.head()
    answers = [admin.send(form.action, typed) for _ in range(3)]  # a refresh re-sends it
    for answer in answers:
        assert answer.status_code == 303
        assert answer.headers["location"] == "/admin/partners?done=registered"
    assert world.head() == before + 1
    seen = world.other_manager.get("/v1/partners").json()["items"]
    assert "Initech" in [p["name"] for p in seen]
    page = admin.get("/admin/partners?done=registered").text
    assert "Partner registered." in page
    assert "Initech" in page


def test_a_refused_partner_says_why_next_to_the_field_and_stores_nothing(
    world: World, admin: Visitor
) -> None:
    form = admin.forms("/admin/partners")["register-partner"]
    before = world.head()
    blank = admin.send(form.action, form.filled(name="  "))
    assert blank.status_code == 422
    assert error_of(blank.text, "register-partner-name-error") == "Name is required."
    not_a_manager = admin.send(form.action, form.filled(name="Hooli", manager_id=world.leader.id))
    assert not_a_manager.status_code == 422
    message = error_of(not_a_manager.text, "register-partner-manager_id-error")
    assert "Lee Leader" in message
    assert "manager" in message
    assert forms_of(not_a_manager.text)["register-partner"].values["name"] == ["Hooli"]
    assert world.head() == before


def test_reassigning_a_manager_hands_the_partnership_over_once(
    world: World, admin: Visitor
) -> None:
    partner = world.admin.post(
        "/v1/partners", {"name": "Umbrella", "manager_id": world.manager.id}
    ).json()
    path = f"/admin/partners/{partner['id']}/manager"
    form = admin.forms(path)["reassign"]
    assert form.values["manager_id"] == [world.manager.id]  # the current manager, selected
    before = world.head()
    same = admin.send(form.action, form.filled(manager_id=world.manager.id))
    assert same.status_code == 409
    assert "already manages this partner" in error_of(same.text, "reassign-error")
    assert world.head() == before
    typed = form.filled(manager_id=world.other_manager.id)
    for _ in range(2):  # a double click
        answer = admin.send(form.action, typed)
        assert answer.status_code == 303
        assert answer.headers["location"] == "/admin/partners?done=reassigned"
    assert world.head() == before + 1
    assert world.other_manager.get(f"/v1/partners/{partner['id']}").status_code == 200
    assert world.manager.get(f"/v1/partners/{partner['id']}").status_code == 404
    assert "Olga Manager" in admin.get(path).text


# ----------------------------------------------------------------- webhooks


def endpoints(world: World) -> list[dict[str, Any]]:
    """Every webhook endpoint, as the API lists them."""
    return world.admin.get("/v1/webhooks", params={"limit": 500}).json()["items"]  # type: ignore[no-any-return]


def test_adding_a_webhook_shows_its_secret_once_and_a_resend_adds_one(
    world: World, admin: Visitor
) -> None:
    form = admin.forms("/admin/webhooks")["add-webhook"]
    typed = form.filled(url="http://127.0.0.1:9/once", description="Once")
    before = len(endpoints(world))
    first = admin.send(form.action, typed)
    assert first.status_code == 201
    secret = secret_on(first.text)
    assert secret
    assert secret.startswith("whsec_")
    again = admin.send(form.action, typed)
    assert secret_on(again.text) is None
    assert "shown on the first answer only" in again.text
    assert len(endpoints(world)) == before + 1
    listed = admin.get("/admin/webhooks").text
    assert "http://127.0.0.1:9/once" in listed
    assert secret not in listed


WEBHOOK_REFUSALS = [
    ({"url": "ftp://x.example/hook"}, "url", "Url must be an absolute http:// or https:// URL"),
    ({"url": "http://127.0.0.1:9/h", "event_types": []}, "event_types", "Choose at least one"),
    (
        {"url": "http://127.0.0.1:9/h", "event_types": ["plan.drafted", "plan.exploded"]},
        "event_types",
        "Unknown event type 'plan.exploded'",
    ),
]


@pytest.mark.parametrize(("typed", "field", "message"), WEBHOOK_REFUSALS)
def test_a_refused_webhook_says_why_next_to_the_field_and_stores_nothing(
    world: World, admin: Visitor, typed: dict[str, Any], field: str, message: str
) -> None:
    form = admin.forms("/admin/webhooks")["add-webhook"]
    before = len(endpoints(world))
    answer = admin.send(form.action, form.filled(**typed))
    assert answer.status_code == 422
    assert error_of(answer.text, f"add-webhook-{field}-error").startswith(message)
    assert forms_of(answer.text)["add-webhook"].values["url"] == [typed["url"]]
    assert len(endpoints(world)) == before


def test_disabling_and_enabling_a_webhook_redirects_and_says_so(
    world: World, admin: Visitor
) -> None:
    hook = world.admin.post(
        "/v1/webhooks", {"url": "http://127.0.0.1:9/switch", "event_types": ["*"]}
    ).json()
    form = admin.forms("/admin/webhooks")[f"switch-{hook['id']}"]
    answer = admin.send(form.action, form.filled())
    assert answer.status_code == 303
    assert answer.headers["location"] == "/admin/webhooks?done=disabled"
    assert world.admin.get(f"/v1/webhooks/{hook['id']}").json()["status"] == "disabled"
    page = admin.get(answer.headers["location"]).text
    assert "Disabled: nothing is sent to it" in page
    enable = forms_of(page)[f"switch-{hook['id']}"]
    assert enable.action.endswith("/enable")
    assert admin.send(enable.action, enable.filled()).status_code == 303
    assert world.admin.get(f"/v1/webhooks/{hook['id']}").json()["status"] == "active"


def test_a_failed_delivery_is_listed_with_its_answer_and_retried_from_the_page(
    world: World, admin: Visitor
) -> None:
    with a_receiver(lambda _: 500) as receiver:
        hook = world.admin.post(
            "/v1/webhooks", {"url": receiver.url, "event_types": ["partner.registered"]}
        ).json()
        world.admin.post("/v1/partners", {"name": "Stark", "manager_id": world.manager.id})
        assert len(receiver.wait_for(1)) >= 1
        path = f"/admin/webhooks/{hook['id']}/deliveries"
        page = admin.get(path).text
        assert "partner.registered" in page
        assert "HTTP 500" in page
        retry = next(f for k, f in forms_of(page).items() if k.startswith("retry-"))
        answer = admin.send(retry.action, retry.filled())
        assert answer.status_code == 303
        assert answer.headers["location"] == f"{path}?done=retried"
        assert len(receiver.wait_for(2)) >= 2  # attempted again at once, not in a minute
    assert "Queued again" in admin.get(answer.headers["location"]).text
    assert admin.get(f"{path}?status=delivered").status_code == 200
    assert admin.get(f"{path}?status=lost").status_code == 422


# -------------------------------------------------------------- preferences


def emailed(world: World, name: str) -> dict[str, bool]:
    """What an actor's e-mail preferences are, as the API says."""
    return world.callers()[name].get("/v1/me/notifications").json()["email"]  # type: ignore[no-any-return]


def test_each_actor_changes_their_own_preferences_only(world: World) -> None:
    contact = visiting(world.client, world.contact)
    form = contact.forms("/preferences")["preferences"]
    assert form.values["email"] == ["reminders", "digest"]  # both on by default
    answer = contact.send(form.action, form.filled(email=["reminders"]))
    assert answer.status_code == 303
    assert answer.headers["location"] == "/preferences?done=saved"
    assert emailed(world, "contact") == {"reminders": True, "digest": False}
    assert emailed(world, "outsider") == {"reminders": True, "digest": True}
    page = contact.get(answer.headers["location"]).text
    assert "Saved." in page
    assert forms_of(page)["preferences"].values["email"] == ["reminders"]
    for name in ("admin", "leader", "manager"):  # (the auditor was revoked above)
        assert visiting(world.client, world.callers()[name]).get("/preferences").status_code == 200


def test_resending_an_old_preferences_form_does_not_undo_a_later_change(world: World) -> None:
    manager = visiting(world.client, world.manager)
    old = manager.forms("/preferences")["preferences"]
    assert manager.send(old.action, old.filled(email=[])).status_code == 303
    assert emailed(world, "manager") == {"reminders": False, "digest": False}
    newer = manager.forms("/preferences")["preferences"]
    assert manager.send(newer.action, newer.filled(email=["digest"])).status_code == 303
    assert manager.send(old.action, old.filled(email=[])).status_code == 303  # the back button
    assert emailed(world, "manager") == {"reminders": False, "digest": True}


def test_a_refused_preferences_form_says_why_and_stores_nothing(world: World) -> None:
    leader = visiting(world.client, world.leader)
    form = leader.forms("/preferences")["preferences"]
    before = emailed(world, "leader")
    odd = leader.send(form.action, form.filled(email=["reminders", "sms"]))
    assert odd.status_code == 422
    assert error_of(odd.text, "preferences-email-error") == "Choose among the options shown."
    forged = leader.send(form.action, form.filled(email=[], csrf="forged"))
    assert forged.status_code == 403
    assert emailed(world, "leader") == before
