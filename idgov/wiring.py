"""The one place that builds concrete services from settings (constructor injection)."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session, sessionmaker

from idgov.alerts.attack_view import AttackReader
from idgov.alerts.attacks import AttackDetector
from idgov.alerts.channels import EmailChannel, WebhookChannel, resolve_from_cwd
from idgov.alerts.delivery import AlertDispatcher
from idgov.alerts.outbox import AlertOutbox
from idgov.alerts.refusals import RefusalAggregator
from idgov.alerts.services import AlertService
from idgov.audit.browse import TrailReader
from idgov.audit.checkpoints import CheckpointService
from idgov.audit.context import AuditContext, cli_actor, current_audit_context
from idgov.audit.pseudonyms import NamePseudonyms
from idgov.audit.trail import AuditTrail
from idgov.audit.verify import ChainVerifier
from idgov.clients.access import HostAccess
from idgov.clients.guessing import TokenGuessing
from idgov.clients.return_urls import ReturnUrls
from idgov.clients.services import ClientRegistry
from idgov.clock import Clock, SystemClock
from idgov.config import Settings, load_settings, resolve_secret
from idgov.db import make_engine, make_session_factory
from idgov.entitlements.grants import GrantLedger
from idgov.errors import InvalidRequest
from idgov.health.gaps import GapFinder
from idgov.identity.access import AccessControl
from idgov.identity.authentication import Anonymity, AuthenticationService
from idgov.identity.dossier.reader import PersonReader
from idgov.identity.ledger import IdentifierLedger
from idgov.identity.lockout import LockoutService
from idgov.identity.notices import CredentialNotices
from idgov.identity.services import IdentityService
from idgov.identity.setup import PasswordSetups
from idgov.identity.setup_links import SetupLinks
from idgov.identity.shadow_lockout import ShadowLockout
from idgov.identity.usernames import normalize_username
from idgov.keys.store import KeyStore
from idgov.logs import configure_logging
from idgov.policies.store import PolicyStore
from idgov.providers.aging import PasswordAgingNotifier
from idgov.providers.directory.accounts import AccountMirror
from idgov.providers.directory.groups import GroupMirror
from idgov.providers.directory.interfaces import Directory
from idgov.providers.directory.managers import ManagerResolver
from idgov.providers.directory.password_change import DirectoryPasswordChange
from idgov.providers.directory.passwords import DirectoryPasswords
from idgov.providers.directory.sync import DirectorySync
from idgov.providers.directory.writeback import GroupWriteBack
from idgov.providers.ldap import LdapIdentityProvider
from idgov.providers.local import LocalPasswords
from idgov.providers.oidc.client import OidcClient
from idgov.providers.oidc.federation import OidcFederation
from idgov.providers.oidc.signin import FederatedSignIn
from idgov.providers.router import PasswordRouter
from idgov.reviews.campaigns.closing import CampaignCloser
from idgov.reviews.campaigns.escalation import EscalationService
from idgov.reviews.campaigns.services import CampaignService
from idgov.reviews.decisions.services import DecisionService
from idgov.reviews.decisions.signoff import SignoffService
from idgov.reviews.evidence.services import EvidenceService
from idgov.reviews.intake.snapshots import SnapshotService
from idgov.reviews.queries.reader import ReviewReader
from idgov.reviews.remediation.services import RemediationService
from idgov.sessions.revocation import SessionRevocation
from idgov.sessions.services import SessionService
from idgov.signatures.ceremony.federated import FederatedCeremony
from idgov.signatures.ceremony.page import CeremonyPages
from idgov.signatures.ceremony.service import CeremonyService
from idgov.signatures.reads import SignatureReader
from idgov.signatures.services import SignatureService
from idgov.signatures.verification import SignatureVerifier
from idgov.tokens.loss.services import LossService
from idgov.tokens.reminders import TokenTestReminders
from idgov.tokens.secrets import SecretBox
from idgov.tokens.services import TokenService
from idgov.tokens.signing import TokenOtpVerifier
from idgov.validation.report import ValidationReport


@dataclass
class Services:
    settings: Settings
    clock: Clock
    engine: Engine
    sessions: sessionmaker[Session]
    trail: AuditTrail
    keys: KeyStore
    checkpoints: CheckpointService
    verifier: ChainVerifier
    trail_reader: TrailReader
    policies: PolicyStore
    alerts: AlertOutbox
    alert_dispatcher: AlertDispatcher
    alert_service: AlertService
    attack_reader: AttackReader
    ledger: IdentifierLedger
    identities: IdentityService
    web_sessions: SessionService
    session_revocation: SessionRevocation
    person_reader: PersonReader
    access: AccessControl
    passwords: LocalPasswords
    password_setups: PasswordSetups
    setup_links: SetupLinks
    password_aging: PasswordAgingNotifier
    lockout: LockoutService
    auth: AuthenticationService
    refusals: RefusalAggregator
    clients: ClientRegistry
    signatures: SignatureService
    ceremonies: CeremonyService
    ceremony_pages: CeremonyPages
    oidc: OidcFederation
    oidc_signin: FederatedSignIn
    federated_ceremonies: FederatedCeremony
    return_urls: ReturnUrls
    host_access: HostAccess
    signature_reader: SignatureReader
    signature_verifier: SignatureVerifier
    loss: LossService
    tokens: TokenService
    token_reminders: TokenTestReminders
    directories: dict[str, Directory]
    directory_sync: DirectorySync
    group_write_back: GroupWriteBack
    directory_passwords: DirectoryPasswordChange
    campaigns: CampaignService
    decisions: DecisionService
    signoffs: SignoffService
    snapshots: SnapshotService
    remediation: RemediationService
    evidence: EvidenceService
    escalation: EscalationService
    review_reader: ReviewReader
    closer: CampaignCloser
    gaps: GapFinder
    validation: ValidationReport

    def close(self) -> None:
        """Release pooled connections: the database's and every directory's."""
        for directory in self.directories.values():
            directory.close()
        self.engine.dispose()

    @property
    def checkpoint_interval(self) -> timedelta:
        return timedelta(seconds=self.settings.audit.checkpoint_interval_seconds)


def build_services(settings: Settings, clock: Clock | None = None) -> Services:
    clock = clock or SystemClock()
    engine = make_engine(settings.database)
    sessions = make_session_factory(engine)
    trail = AuditTrail(clock, current_audit_context.get)
    keys = KeyStore(
        _PassphraseSource(settings.keys.passphrase).bytes, settings.keys.algorithm, clock, trail
    )
    policies = PolicyStore(clock, trail, settings.policy.profile)
    alerts = AlertOutbox(clock, trail, policies)
    notices = CredentialNotices(alerts)  # CMP-2: owners hear of every credential change
    # TOK-1: token secrets sealed under a key derived from the same passphrase as the keys.
    tokens = TokenService(
        clock,
        trail,
        policies,
        alerts,
        SecretBox(_PassphraseSource(settings.keys.passphrase).bytes),
        notices,
    )
    ledger = IdentifierLedger(clock, trail, alerts)
    directories = build_directories(settings)
    web_sessions = SessionService(clock, trail, policies)
    identities = IdentityService(clock, trail, ledger, revoker=web_sessions)
    passwords = LocalPasswords(clock, trail, policies, revoker=web_sessions, notices=notices)
    # CMP-2: set-password links are minted from the key passphrase, never stored.
    links = SetupLinks(_PassphraseSource(settings.keys.passphrase).bytes, settings.server.base_url)
    lockout = LockoutService(clock, trail, alerts, identities, revoker=web_sessions)
    attacks = AttackDetector(clock, alerts)
    # Finding 7: unknown names kept only as HMAC pseudonyms under a key derived from the
    # server secret (audit/pseudonyms.py); resolved at first use, like the other secrets.
    pseudonyms = NamePseudonyms(_SecretSource(settings.server.secret_key))
    refusals = RefusalAggregator(clock, trail)
    auth = AuthenticationService(
        sessions,
        trail,
        policies,
        identities,
        lockout,
        attacks,
        PasswordRouter(passwords, DirectoryPasswords(clock, policies, directories)),
        ledger,
        Anonymity(pseudonyms, ShadowLockout(clock), refusals),
    )
    loss = LossService(clock, trail, alerts, identities, web_sessions, passwords, policies, notices)
    signatures = SignatureService(
        sessions,
        clock,
        trail,
        policies,
        identities,
        auth,
        keys,
        issuer=settings.server.base_url,
        otp=TokenOtpVerifier(tokens, lockout, policies, trail, clock),
        temporary=loss,
    )
    ceremonies = CeremonyService(
        sessions, clock, trail, policies, signatures, settings.server.base_url
    )
    oidc = OidcFederation(sessions, clock, trail, build_oidc_clients(settings))
    campaigns = CampaignService(clock, trail)
    checkpoints = CheckpointService(keys, clock, settings.server.base_url)
    write_back = GroupWriteBack(sessions, clock, trail, directories)
    remediation = RemediationService(sessions, clock, trail, write_back)
    evidence = EvidenceService(sessions, clock, trail, settings.server.base_url)
    return Services(
        settings=settings,
        clock=clock,
        engine=engine,
        sessions=sessions,
        trail=trail,
        keys=keys,
        checkpoints=checkpoints,
        verifier=ChainVerifier(engine),
        trail_reader=TrailReader(_identity_id_of(identities)),
        policies=policies,
        alerts=alerts,
        alert_dispatcher=AlertDispatcher(
            clock,
            sessions,
            trail,
            policies,
            alerts,
            email=EmailChannel(settings.smtp, clock),
            webhook=WebhookChannel(),
            secrets=resolve_from_cwd,
            # A claimed row is re-sent only after this: longer than any one SMTP exchange.
            claim=timedelta(seconds=max(120, 4 * settings.smtp.timeout_seconds)),
            links=links,
        ),
        alert_service=AlertService(clock, trail, identities, alerts),
        attack_reader=AttackReader(clock),
        ledger=ledger,
        identities=identities,
        web_sessions=web_sessions,
        session_revocation=SessionRevocation(clock, trail, identities, web_sessions),
        person_reader=PersonReader(clock, identities, web_sessions),
        access=AccessControl(trail, identities),
        passwords=passwords,
        password_setups=PasswordSetups(clock, trail, policies, passwords, notices, links),
        setup_links=links,
        password_aging=PasswordAgingNotifier(clock, policies, alerts),
        lockout=lockout,
        auth=auth,
        refusals=refusals,
        clients=ClientRegistry(
            clock, trail, TokenGuessing(policies, attacks, pseudonyms, refusals)
        ),
        signatures=signatures,
        ceremonies=ceremonies,
        ceremony_pages=CeremonyPages(policies, identities, signatures, dict(oidc.names())),
        oidc=oidc,
        oidc_signin=FederatedSignIn(sessions, clock, trail, identities, ledger, lockout, oidc),
        federated_ceremonies=FederatedCeremony(
            sessions, trail, policies, ledger, lockout, oidc, ceremonies, signatures
        ),
        return_urls=ReturnUrls(trail),
        host_access=HostAccess(clock, trail),
        signature_reader=SignatureReader(),
        signature_verifier=SignatureVerifier(keys, settings.server.base_url),
        loss=loss,
        tokens=tokens,
        token_reminders=TokenTestReminders(clock, policies, alerts),
        directories=directories,
        directory_sync=DirectorySync(
            sessions,
            clock,
            trail,
            directories,
            AccountMirror(trail, ledger),
            GroupMirror(trail, GrantLedger(trail)),
            ManagerResolver(trail),
            identities,
        ),
        group_write_back=write_back,
        directory_passwords=DirectoryPasswordChange(
            clock, trail, policies, directories, web_sessions, notices
        ),
        campaigns=campaigns,
        decisions=DecisionService(clock, trail),
        signoffs=SignoffService(sessions, clock, trail, signatures, campaigns),
        gaps=GapFinder(settings, engine, policies, clock),
        snapshots=SnapshotService(clock, trail, GrantLedger(trail)),
        remediation=remediation,
        evidence=evidence,
        escalation=EscalationService(clock, trail, alerts, campaigns),
        review_reader=ReviewReader(),
        closer=CampaignCloser(sessions, campaigns, evidence, remediation),
        validation=ValidationReport(
            settings, clock, engine, sessions, trail, keys, checkpoints, ChainVerifier(engine)
        ),
    )


def build_command_services(options: Mapping[str, object] | None = None) -> Services:
    """Services for an `idgov` command, acting as the operating-system user who runs it, with
    `options` ("section.key": value) from the command line over the settings; logging is set
    up as for the web processes, one JSON line per event."""
    settings = load_settings(options=options)
    configure_logging(settings.logging.level, settings.logging.format)
    services = build_services(settings)
    current_audit_context.set(AuditContext(cli_actor()))
    return services


def build_directories(settings: Settings) -> dict[str, Directory]:
    """One LdapIdentityProvider per [directories.NAME]; nothing connects until first use, and
    the service password is resolved then (a missing secret makes that directory unavailable)."""
    built: dict[str, Directory] = {}
    for name, directory in settings.directories.items():
        built[name] = LdapIdentityProvider(name, directory, _SecretSource(directory.bind_password))
    return built


def build_oidc_clients(settings: Settings) -> dict[str, OidcClient]:
    """One OidcClient per [oidc.NAME]; discovery happens at first use, and the client secret is
    resolved on each use (a missing secret makes that provider unavailable)."""
    base = settings.server.base_url.rstrip("/")
    return {
        name: OidcClient(
            name, provider, _SecretSource(provider.client_secret), f"{base}/oidc/{name}/callback"
        )
        for name, provider in settings.oidc.items()
    }


def _identity_id_of(identities: IdentityService) -> Callable[[Session, str], str | None]:
    """The trail reader's actor lookup: a username's identity id (the console's filter)."""

    def lookup(session: Session, username: str) -> str | None:
        try:
            found = identities.by_username(session, normalize_username(username))
        except InvalidRequest:  # not a username: perhaps an actor id
            return None
        return None if found is None else found.id

    return lookup


class _SecretSource:
    """A secret reference resolved on each use (env:// or file://, config.resolve_secret)."""

    def __init__(self, reference: str) -> None:
        self._reference = reference

    def __call__(self) -> str:
        return resolve_secret(self._reference, Path.cwd())


class _PassphraseSource(_SecretSource):
    """Resolves the key passphrase on first use, so a missing secret fails the key use
    (KeyUnavailable) rather than start-up of unrelated commands."""

    def bytes(self) -> bytes:
        return self().encode("utf-8")
