"""Sign-in and signing through an OpenID provider: the redirect there, and the one callback
that comes back (OIDC Core 1.0 3.1.2); the checks are in the services, never here."""

from __future__ import annotations

from collections.abc import Callable

from flask import Blueprint, redirect, request, url_for
from flask import session as signed_cookie
from flask.typing import ResponseReturnValue
from sqlalchemy.exc import SQLAlchemyError

from idgov.errors import Conflict, IdgovError, NotFound, ServiceUnavailable
from idgov.providers.oidc.federation import Returned
from idgov.providers.oidc.flows import FlowStart, new_browser_secret
from idgov.signatures.ceremony.endings import Ending
from idgov.web.auth import current_identity, refuse, set_session_cookie
from idgov.web.context import services
from idgov.web.signin import start_session
from idgov.web.ui import ceremony
from idgov.web.ui.login import login_page, safe_next

bp = Blueprint("oidc", __name__)
BROWSER_KEY = "oidc_browser"  # in the signed, HttpOnly, SameSite=Lax cookie
DATABASE_DOWN = "idgov cannot reach its database right now. Try again shortly."


def browser_secret() -> str:
    """This browser's random value: every flow is bound to it (RFC 6749 10.12, login CSRF)."""
    secret = signed_cookie.get(BROWSER_KEY)
    if not isinstance(secret, str) or len(secret) < 32:
        secret = new_browser_secret()
        signed_cookie[BROWSER_KEY] = secret
    return secret


@bp.get("/login/oidc/<name>")
def login(name: str) -> ResponseReturnValue:
    """Sign in with NAME: off to the provider, back at the callback."""
    next_url = safe_next(request.args.get("next"))
    start = FlowStart(name[:64], "login", next_url=next_url)
    try:
        return redirect(services().oidc.begin(start, browser_secret()), code=303)
    except NotFound as unknown:
        return refuse(unknown)
    except IdgovError as refused:
        return login_page(refused.status, next_url, error=refused.detail)
    except SQLAlchemyError:
        return login_page(503, next_url, error=DATABASE_DOWN)


@bp.post("/sign/<id:request_id>/oidc")
def sign(request_id: str) -> ResponseReturnValue:
    """Continue at NAME: a fresh login of the signer at their provider (STEP-1). The form's
    CSRF token is checked by the ceremony's rule (signed in or not)."""
    if not ceremony.csrf_ok():
        return ceremony.page_with(request_id, 403, ceremony.EXPIRED_FORM)

    def begin() -> str | Ending:
        signer = ceremony.signer_of(request_id, current_identity())
        if signer is None:
            raise Conflict("Sign in first, then sign here.")
        return services().federated_ceremonies.begin(request_id, signer, browser_secret())

    return _at_ceremony(request_id, begin)


@bp.get("/oidc/<name>/callback")
def callback(name: str) -> ResponseReturnValue:
    """The provider's answer (3.1.2.5): for a sign-in, a session; for a signing, the
    signatures and the way back to the host."""
    built, source = services(), request.remote_addr
    secret = signed_cookie.get(BROWSER_KEY)
    args = {key: value for key, value in request.args.items() if isinstance(value, str)}
    try:
        # A replayed or foreign callback, a refused code, a token that is not the provider's,
        # the provider down (503, no fallback): audited by the service, explained here.
        returned = built.oidc.returned(
            name[:64], args, secret if isinstance(secret, str) else None, source
        )
    except IdgovError as refused:
        return refuse(refused)
    except SQLAlchemyError:
        return refuse(ServiceUnavailable(DATABASE_DOWN))
    if returned.flow.purpose == "login":
        return _signed_in(returned, source)
    request_id = returned.flow.signing_request_id
    assert request_id is not None
    # Stale login, another person at the provider, a token that does not verify: audited,
    # counted, and the request stays open for another try (or has ended: the page says).
    return _at_ceremony(request_id, lambda: built.federated_ceremonies.complete(returned, source))


def _at_ceremony(request_id: str, step: Callable[[], str | Ending]) -> ResponseReturnValue:
    """Run a step of the federated ceremony: a URL goes to the provider, an ending back to
    the host; a refusal shows the ceremony page again with why."""
    try:
        outcome = step()
    except NotFound as unknown:
        return refuse(unknown)
    except IdgovError as refused:
        return ceremony.page_with(request_id, refused.status, refused.detail)
    except SQLAlchemyError:
        return refuse(ServiceUnavailable(DATABASE_DOWN))
    if isinstance(outcome, str):
        return redirect(outcome, code=303)
    return ceremony.leave(outcome)


def _signed_in(returned: Returned, source: str | None) -> ResponseReturnValue:
    next_url = returned.flow.next_url or url_for("account.home")
    try:
        identity_id = services().oidc_signin.identity_for(returned, source)
        signed = start_session(identity_id)
    except IdgovError as refused:
        return login_page(refused.status, next_url, error=refused.detail)
    except SQLAlchemyError:
        return login_page(503, next_url, error=DATABASE_DOWN)
    response = redirect(next_url, code=303)
    set_session_cookie(response, signed.started.token)
    return response
