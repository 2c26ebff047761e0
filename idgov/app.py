"""Flask application factory: settings, services, middleware, error handling, blueprints."""

from __future__ import annotations

from pathlib import Path

from flask import Flask

from idgov.config import Settings, load_settings, resolve_secret
from idgov.counted import JINJA_FILTERS
from idgov.logs import configure_logging
from idgov.web import health
from idgov.web.api import alerts as api_alerts
from idgov.web.api import directories as api_directories
from idgov.web.api import identities as api_identities
from idgov.web.api import loss_reports as api_loss_reports
from idgov.web.api import meta
from idgov.web.api import policies as api_policies
from idgov.web.api import reviews as api_reviews
from idgov.web.api import session as api_session
from idgov.web.api import signature_reads as api_signature_reads
from idgov.web.api import signatures as api_signatures
from idgov.web.api import signing_requests as api_signing_requests
from idgov.web.api import systems as api_systems
from idgov.web.api import tokens as api_tokens
from idgov.web.auth import register_auth
from idgov.web.context import close_session
from idgov.web.converters import register_converters
from idgov.web.favicon import bp as favicon_bp
from idgov.web.middleware import register_middleware
from idgov.web.oauth import bp as oauth_bp
from idgov.web.problems import register_problem_handlers
from idgov.web.throttling import register_throttling
from idgov.web.ui import (
    account,
    alerts,
    audit_trail,
    ceremony,
    console,
    directory_pages,
    host_systems,
    lockouts,
    login,
    loss,
    oidc,
    people,
    person,
    person_actions,
    policy_pages,
    review_admin,
    review_evidence,
    reviews,
    signature_pages,
    tokens,
)
from idgov.web.ui import setup as password_setup
from idgov.wiring import Services, build_services

MAX_REQUEST_BYTES = 2 * 1024 * 1024


def create_app(settings: Settings | None = None, services: Services | None = None) -> Flask:
    """Build the app. Nothing connects here: the database is first used by a request."""
    settings = settings or (services.settings if services else load_settings())
    services = services or build_services(settings)
    configure_logging(settings.logging.level, settings.logging.format)

    app = Flask(__name__)
    app.config.update(
        SECRET_KEY=resolve_secret(settings.server.secret_key, Path.cwd()),
        MAX_CONTENT_LENGTH=MAX_REQUEST_BYTES,
        SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SAMESITE="Lax",
        SESSION_COOKIE_SECURE=settings.server.base_url.startswith("https://"),
        JSON_SORT_KEYS=False,
    )
    app.extensions["idgov"] = services
    app.jinja_env.filters.update(JINJA_FILTERS)
    app.jinja_env.globals["console_pages"] = console.visible_pages  # the navigation (ACC-2)
    if settings.server.trusted_proxies:
        from werkzeug.middleware.proxy_fix import ProxyFix

        count = settings.server.trusted_proxies
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=count, x_proto=count)  # type: ignore[method-assign]

    register_middleware(app, https=settings.server.base_url.startswith("https://"))
    # Before the session lookup: a throttled request costs no database work (LOCK-1, LOCK-3).
    register_throttling(app, settings.throttling)
    register_auth(app)  # after the middleware: needs its request id and audit context
    register_problem_handlers(app)
    register_converters(app)
    app.teardown_appcontext(close_session)
    app.register_blueprint(health.bp)
    app.register_blueprint(favicon_bp)  # public, like /static/
    app.register_blueprint(meta.bp)
    app.register_blueprint(api_session.bp)
    app.register_blueprint(api_directories.bp)
    app.register_blueprint(api_systems.bp)  # host snapshots and revocations (REV-1, REV-4)
    app.register_blueprint(api_reviews.bp)  # campaigns (REV-1..6)
    app.register_blueprint(reviews.bp)  # reviewer pages (REV-3)
    app.register_blueprint(review_admin.bp)  # admin pages (REV-5)
    app.register_blueprint(review_evidence.bp)  # evidence pack downloads (REV-5, EXP-1)
    app.register_blueprint(login.bp)
    app.register_blueprint(account.bp)
    app.register_blueprint(password_setup.bp)  # set-password links of resets (CMP-2)
    app.register_blueprint(tokens.bp)  # the person's tokens (TOK-1)
    app.register_blueprint(loss.bp)  # the owner's loss report (LOSS-1)
    app.register_blueprint(api_tokens.bp)
    app.register_blueprint(oauth_bp)  # host clients: POST /oauth/token (DEV-1)
    app.register_blueprint(api_signatures.bp)  # host signing API (11.200)
    app.register_blueprint(api_signature_reads.bp)  # reading and verifying (LNK-1, LNK-2)
    app.register_blueprint(api_signing_requests.bp)  # the signing ceremony's host API (11.200)
    app.register_blueprint(ceremony.bp)  # the signing ceremony's page (11.200, 11.300)
    app.register_blueprint(oidc.bp)  # OpenID Connect sign-in and signing (STEP-1)
    app.register_blueprint(api_loss_reports.bp)  # loss reports and replacements (LOSS-1, LOSS-2)
    app.register_blueprint(audit_trail.bp)  # the audit trail for auditors (AUD-1..4, EXP-1)
    app.register_blueprint(signature_pages.bp)  # signatures for auditors (MAN-1, LNK-1)
    app.register_blueprint(alerts.bp)  # alerts and attacks for security officers (ALERT-1, LOCK-3)
    app.register_blueprint(lockouts.bp)  # locked people and unlock (LOCK-2)
    app.register_blueprint(policy_pages.bp)  # policies: read, change with a reason (CHG-1)
    app.register_blueprint(host_systems.bp)  # host systems for admins (DEV-1)
    app.register_blueprint(directory_pages.bp)  # directories: syncs and connection tests
    app.register_blueprint(people.bp)  # the people list and creating a person (ACC-2, IDV-1)
    app.register_blueprint(person.bp)  # a person's page: everything about them, and actions
    app.register_blueprint(person_actions.bp)  # the person's actions, with the API's roles
    for admin_api in (api_identities, api_policies, api_alerts):
        app.register_blueprint(admin_api.bp)
    return app
