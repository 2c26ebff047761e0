"""The IdgovError tree: each error maps to an RFC 9457 problem type and HTTP status."""

from __future__ import annotations

from typing import Any

# Problem types are URNs: stable, absolute (RFC 9457 section 3.1.1), and not tied to a host name.
PROBLEM_BASE = "urn:idgov:problem:"


class IdgovError(Exception):
    """Base of every error idgov reports to a user, operator or host."""

    type_slug = "internal-error"
    title = "Internal error"
    status = 500
    recorded_by_default = False

    def __init__(
        self,
        detail: str,
        *,
        recorded: bool | None = None,
        retry_after: int | None = None,
        **extensions: Any,
    ) -> None:
        """`recorded`: the service recorded the refused attempt (audit event, failure count,
        alert) and changed nothing else, so `db.transaction` commits that record before the
        error goes on up (11.10(e), LOCK-1); the refusal's class, type and status stay one.
        `retry_after`: seconds after which the same request may succeed, sent as the
        Retry-After header (RFC 9110 section 10.2.3) of a 429 or 503."""
        super().__init__(detail)
        self.detail = detail
        self.extensions = extensions
        self.recorded = self.recorded_by_default if recorded is None else recorded
        self.retry_after = retry_after

    @property
    def type_uri(self) -> str:
        return PROBLEM_BASE + self.type_slug

    def to_problem(self, instance: str | None = None) -> dict[str, Any]:
        """The RFC 9457 problem details object for this error."""
        problem: dict[str, Any] = {
            "type": self.type_uri,
            "title": self.title,
            "status": self.status,
            "detail": self.detail,
        }
        if instance:
            problem["instance"] = instance
        problem.update(self.extensions)
        return problem


class ConfigurationError(IdgovError):
    """Settings that cannot be used: names the file, key and problem."""

    type_slug = "configuration-error"
    title = "Configuration error"
    status = 500


class InvalidRequest(IdgovError):
    type_slug = "invalid-request"
    title = "Invalid request"
    status = 400


class UnprocessableRequest(InvalidRequest):
    status = 422


class NotFound(IdgovError):
    type_slug = "not-found"
    title = "Not found"
    status = 404


class MethodNotAllowed(IdgovError):
    type_slug = "method-not-allowed"
    title = "Method not allowed"
    status = 405


class ServiceUnavailable(IdgovError):
    type_slug = "service-unavailable"
    title = "Service unavailable"
    status = 503


class HashingBusy(ServiceUnavailable):
    """Every password-hash slot of this process stayed busy for the whole queue wait: answered
    at once with Retry-After instead of queueing more 64 MiB argon2 computations; nothing was
    checked or recorded (docs/sessions-and-access.md, Throttling)."""

    type_slug = "busy"
    title = "Too busy to check a password now"


class TooManyRequests(IdgovError):
    """A throttle's limit is reached (RFC 6585 section 4): nothing was checked or recorded;
    Retry-After says when to try again (NIST SP 800-63B-4 section 3.2.2, rate limiting)."""

    type_slug = "too-many-requests"
    title = "Too many requests"
    status = 429


class KeyUnavailable(ServiceUnavailable):
    """A signing key cannot be loaded or decrypted: refuse, never sign without it."""

    type_slug = "key-unavailable"
    title = "Signing key unavailable"


class ProviderUnavailable(ServiceUnavailable):
    """Something a signature needs (database, key, identity source) cannot be reached: the
    signature is refused (fail closed); `reason` says what."""

    type_slug = "provider-unavailable"
    title = "Provider unavailable"


class AuditIntegrityError(IdgovError):
    """The audit chain cannot be appended to or does not verify."""

    type_slug = "audit-integrity"
    title = "Audit trail integrity failure"
    status = 500


class Unauthenticated(IdgovError):
    type_slug = "unauthenticated"
    title = "Authentication required"
    status = 401


class InvalidCredentials(IdgovError):
    """Same answer for a wrong password and an unknown username (LOCK-3)."""

    type_slug = "invalid-credentials"
    title = "Invalid credentials"
    status = 401


class Forbidden(IdgovError):
    type_slug = "forbidden"
    title = "Not allowed"
    status = 403


class NotEligible(IdgovError):
    """Refused for a reason the person must fix first (unverified, uncertified, an expired or
    disabled directory account...); `reason` names it."""

    type_slug = "not-eligible"
    title = "Not eligible"
    status = 403


class Conflict(IdgovError):
    type_slug = "conflict"
    title = "Conflict"
    status = 409


class OutOfSequence(Conflict):
    """SEQ-1 and CMP-1: a signing step out of the declared order, or a signing session that is
    not the caller's or has ended; `reason` says which."""

    type_slug = "out-of-sequence"
    title = "Out of sequence"


class Locked(IdgovError):
    type_slug = "locked"
    title = "Identity locked"
    status = 423


class RecordedRefusal(IdgovError):
    """Base of the refusals that are always recorded (IdgovError's `recorded`)."""

    recorded_by_default = True


class IdentifierReused(RecordedRefusal):
    """UNQ-1: a username or subject already belongs to someone else."""

    type_slug = "identifier-reused"
    title = "Identifier belongs to another identity"
    status = 409


class FederatedRefusal(RecordedRefusal):
    """The OpenID provider's answer does not let this person in or sign (`reason` names why:
    stale-authentication, subject-mismatch, wrong-nonce, ...); its audit event is kept."""

    type_slug = "invalid-credentials"
    title = "Sign-in at the identity provider refused"
    status = 401
