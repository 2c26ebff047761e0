"""Checks before a signature: meaning, batch, eligibility, the token rule (MAN-1, CMP-1)."""

from __future__ import annotations

from collections.abc import Sequence

from idgov.counted import counted
from idgov.errors import NotEligible, UnprocessableRequest
from idgov.identity.eligibility import CREDENTIAL_LOSS, NO_TOKEN, Blocker, signing_blockers
from idgov.policies.documents import Meaning, SigningPolicy
from idgov.providers.interfaces import CredentialState
from idgov.signatures.requests import Record
from idgov.text import unprintable

MAX_RECORD_TYPE = 64


def usable_meanings(policy: SigningPolicy, client_name: str) -> list[Meaning]:
    """The configured meanings this host client may use (MAN-1)."""
    return [m for m in policy.meanings if m.clients is None or client_name in m.clients]


def usable_meaning(policy: SigningPolicy, code: str, client_name: str) -> Meaning:
    """The meaning `code`; an unknown one, or one kept for other clients, is refused alike."""
    usable = usable_meanings(policy, client_name)
    for meaning in usable:
        if meaning.code == code:
            return meaning
    raise UnprocessableRequest(
        f"meaning {code!r} is not configured for this client",
        field="meaning",
        allowed=[meaning.code for meaning in usable],
    )


def check_batch(records: Sequence[Record], policy: SigningPolicy) -> None:
    """A batch within the policy's size, each record (type, id, version) once."""
    if len(records) > policy.max_batch:
        raise UnprocessableRequest(
            f"a batch holds at most {counted(policy.max_batch, 'record')}; "
            f"{len(records)} were sent",
            field="records",
        )
    seen: dict[tuple[str, str, str], int] = {}
    for index, record in enumerate(records):
        first = seen.setdefault(record.key, index)
        if first != index:
            raise UnprocessableRequest(
                f"records[{index}] repeats records[{first}] (same type, id and version)",
                field=f"records.{index}",
            )


def record_type_of(value: str) -> str:
    """A record type named in a URL path, held to the same rule as in a request body."""
    if not value.strip() or len(value) > MAX_RECORD_TYPE or unprintable(value):
        raise UnprocessableRequest(
            f"record_type must be 1 to {MAX_RECORD_TYPE} printable characters",
            field="record_type",
        )
    return value


def needs_token(policy: SigningPolicy, roles: set[str]) -> bool:
    """Whether the policy makes a token mandatory for this identity (TOK-1)."""
    if policy.require_otp == "all":
        return True
    return policy.require_otp == "roles" and bool(roles & set(policy.otp_roles))


def refuse_ineligible(
    *,
    status: str,
    verified: bool,
    certified: bool,
    credential: CredentialState,
    missing_token: bool,
    credential_loss: bool = False,
    token_blockers: Sequence[Blocker] = (),
) -> None:
    """not-eligible 403 with every reason: unverified (IDV-1), inactive or locked, uncertified
    (TRN-1), temporary password (CMP-2), password expired (PWD-3), no token or none usable
    now, e.g. token-test-overdue (TOK-1), an open loss case (LOSS-1, 11.300(c))."""
    blockers = signing_blockers(
        status, verified, certified, temporary=credential.temporary, expired=credential.expired
    )
    if missing_token:
        blockers.append(Blocker("no-token", NO_TOKEN))
    blockers.extend(token_blockers)
    if credential_loss:
        blockers.append(Blocker("credential-loss", CREDENTIAL_LOSS))
    if blockers:
        raise NotEligible(
            " ".join(blocker.message for blocker in blockers),
            reasons=[blocker.code for blocker in blockers],
        )
