"""End to end through a real SMTP server (issue 17, finding 1): an administrator's reset gives
them nothing usable; the owner's mail carries the single-use link; the owner sets a password
on the page and signs; the administrator cannot (CMP-2, 11.200(a)(3))."""

from __future__ import annotations

import re
from collections.abc import Iterator

import pytest
from flask import Flask

from idgov.app import create_app
from idgov.clock import FrozenClock
from idgov.config import Settings, SmtpSettings
from idgov.identity.models import Role
from idgov.wiring import Services, build_services
from tests.functional.api_client import sign_in
from tests.functional.hosts import HOST_ADDRESS, bearer, register, token_for
from tests.functional.people import PASSWORD, csrf_of, person
from tests.functional.signing import body, prepare, signer
from tests.harness.smtp import CapturingSmtpServer

pytestmark = [pytest.mark.integration, pytest.mark.req("CMP-2")]

LINK = re.compile(r"https?://\S+(/account/set-password/\S+)")
CHOSEN = "Harbour-Lichen-Trumpet-93"


@pytest.fixture
def mailing(
    settings: Settings, clock: FrozenClock, smtp_server: CapturingSmtpServer
) -> Iterator[Services]:
    smtp = {"host": "127.0.0.1", "port": smtp_server.port, "timeout_seconds": 5}
    built = build_services(
        settings.model_copy(update={"smtp": SmtpSettings.model_validate(smtp)}), clock
    )
    yield built
    built.close()


def test_a_reset_reaches_only_the_owner_who_alone_can_then_sign(
    mailing: Services, smtp_server: CapturingSmtpServer
) -> None:
    smtp_server.clear()
    prepare(mailing)  # cheap hashing, keys and the admin "admin1"
    client_id, secret = register(mailing, "qms")
    with mailing.sessions() as session:
        admin = mailing.identities.by_username(session, "admin1")
    assert admin is not None
    person(mailing, "sam", roles=(Role.SECURITY_OFFICER,), name="Sam Secure")
    jdoe = signer(mailing, "jdoe", admin.id, name="Jane Doe")
    app: Flask = create_app(services=mailing)
    host = app.test_client()
    token = token_for(host, client_id, secret)

    def sign(password: str) -> int:
        answer = host.post(
            "/api/v1/signatures",
            json=body("jdoe", password=password),
            headers=bearer(token),
            environ_base={"REMOTE_ADDR": HOST_ADDRESS},
        )
        return answer.status_code

    # The administrator resets: the answer holds nothing that signs in or signs.
    officer = sign_in(app, "admin1")
    reset = officer.post(f"/api/v1/identities/{jdoe}/password-reset", {"reason": "ticket 7"})
    assert reset.status_code == 200, reset.get_data(as_text=True)
    assert set(reset.get_json()) == {"delivery", "expires_at", "sent_to"}
    assert sign(PASSWORD) == 401  # the old password no longer works

    # The worker mails the owner, and only the owner, the link.
    assert mailing.alert_dispatcher.deliver_due() >= 1
    mails = [m for m in smtp_server.messages if "jdoe@example.com" in m.envelope_to]
    [mail] = [m for m in mails if m["Subject"] == "[idgov] Set your idgov password"]
    assert mail.envelope_to == ("jdoe@example.com",)
    text = mail.get_content()
    found = LINK.search(text)
    assert found, text
    path = found.group(1)
    assert "Ada Admin reset your idgov password" in text
    assert all(path not in m.get_content() for m in smtp_server.messages if m is not mail)
    assert path not in reset.get_data(as_text=True)
    assert path.rsplit("/", 1)[1] not in officer.get("/api/v1/alerts?status=all").get_data(
        as_text=True
    )

    # The owner sets a password on the page, once, and signs with it.
    owner = app.test_client()
    page = owner.get(path)
    assert page.status_code == 200
    done = owner.post(
        path,
        data={
            "csrf_token": csrf_of(page.get_data(as_text=True)),
            "new_password": CHOSEN,
            "repeat_password": CHOSEN,
        },
    )
    assert done.status_code == 302, done.get_data(as_text=True)
    assert sign(CHOSEN) == 201
    # The administrator has no way in: the link is spent, the old password dead, and the
    # reset API never answers a secret.
    assert app.test_client().get(path).status_code == 404
    assert sign(PASSWORD) == 401

    # The owner is told that their password was set.
    mailing.alert_dispatcher.deliver_due()
    subjects = [
        m["Subject"] for m in smtp_server.messages if m.envelope_to == ("jdoe@example.com",)
    ]
    assert "[idgov] Your idgov password was set" in subjects
