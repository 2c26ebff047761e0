"""SignatureVerifier and offline verification: every reason code, both algorithms, rotation."""

from __future__ import annotations

import random
from collections.abc import Iterator
from dataclasses import replace
from typing import Any

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from sqlalchemy import event

from idgov.clock import FrozenClock
from idgov.config import KeySettings, Settings
from idgov.db import transaction
from idgov.keys.jwk import public_jwk, thumbprint
from idgov.keys.jws import b64url, sign_compact
from idgov.signatures.tokens import TOKEN_TYPE
from idgov.signatures.verification import (
    MAX_TOKEN_CHARS,
    REASONS,
    RecordKey,
    VerificationResult,
    verify_with_jwks,
)
from idgov.wiring import Services, build_services
from tests.functional.signing_support import (
    SignatureMaker,
    digest_of,
    encode,
    parts,
    record_ref,
)


@pytest.fixture
def maker(services: Services, clock: FrozenClock) -> SignatureMaker:
    return SignatureMaker(services, clock)


def verify(services: Services, token: str, **checks: Any) -> VerificationResult:
    with services.sessions() as session:
        return services.signature_verifier.verify(session, token, **checks)


def resign(services: Services, token: str, header: dict[str, Any], payload: dict[str, Any]) -> str:
    """A token with this header and payload, signed with the installation's signature key."""
    with services.sessions() as session:
        key = services.keys.active(session, "signature")
        assert key is not None
        return sign_compact(header, payload, services.keys.private_key(key))


@pytest.mark.req("LNK-1")
def test_a_genuine_token_verifies_with_its_digest_and_record(
    services: Services, maker: SignatureMaker
) -> None:
    row = maker.sign(reason="release")
    record = RecordKey(row.record_type, row.record_id, row.record_version)
    result = verify(services, row.token, digest=row.record_digest, record=record)
    assert result.valid
    assert result.reasons == []
    assert result.signature_id == row.id
    assert result.kid == row.kid
    assert result.claims is not None
    assert result.claims["sub"] == row.identity_id
    document = result.document
    assert document is not None
    assert document.manifestation.text() == (
        "Electronically signed by Jane Doe (jdoe) on 2026-03-02 09:31:00 UTC; "
        "meaning: approval: I approve this record.; reason: release"
    )
    # The digest may be given in upper-case hex.
    assert verify(services, row.token, digest=row.record_digest.upper()).valid


@pytest.mark.req("LNK-1")
def test_a_changed_record_fails_by_digest_and_a_copied_signature_by_record(
    services: Services, maker: SignatureMaker
) -> None:
    row = maker.sign()
    changed = verify(services, row.token, digest=digest_of(b"the record, edited afterwards"))
    assert (changed.valid, changed.reasons) == (False, ["digest-mismatch"])
    for other in (
        RecordKey("sop", "SOP-0042", "5"),  # the next version
        RecordKey("sop", "SOP-0043", "4"),  # another record
        RecordKey("batch-record", "SOP-0042", "4"),  # another type
    ):
        copied = verify(services, row.token, record=other)
        assert (copied.valid, copied.reasons) == (False, ["record-mismatch"])
    both = verify(services, row.token, digest=digest_of(b"x"), record=RecordKey("a", "b", "c"))
    assert both.reasons == ["digest-mismatch", "record-mismatch"]
    assert both.claims is not None  # the signature itself verified: what it asserts is shown


@pytest.mark.req("LNK-1")
@pytest.mark.parametrize(
    ("path", "value"),
    [
        (("sub",), "someone-else"),  # the signer
        (("manifest", "printed_name"), "John Roe"),
        (("manifest", "meaning"), "review"),  # the meaning
        (("record", "digest"), "sha256:" + "0" * 64),  # the record
        (("record", "version"), "5"),
    ],
)
def test_changing_the_signer_meaning_or_record_in_the_token_breaks_it(
    services: Services, maker: SignatureMaker, path: tuple[str, ...], value: str
) -> None:
    row = maker.sign()
    header, payload, sig = parts(row.token)
    target = payload
    for name in path[:-1]:
        target = target[name]
    target[path[-1]] = value
    forged = f"{encode(header)}.{encode(payload)}.{sig}"
    result = verify(services, forged)
    assert (result.valid, result.reasons, result.claims) == (False, ["bad-signature"], None)


def test_an_unknown_key_and_a_key_of_another_purpose_are_refused(
    services: Services, maker: SignatureMaker
) -> None:
    row = maker.sign()
    _, payload, _ = parts(row.token)
    stranger = Ed25519PrivateKey.generate()
    kid = thumbprint(public_jwk(stranger.public_key()))
    token = sign_compact({"alg": "EdDSA", "kid": kid, "typ": TOKEN_TYPE}, payload, stranger)
    assert verify(services, token).reasons == ["unknown-key"]
    # An audit checkpoint is signed by the audit key: never a signature key, never a signature.
    with transaction(services.sessions) as session:
        services.keys.create(session, "audit", reason="test")
        checkpoint = services.checkpoints.issue(session).token
    assert verify(services, checkpoint).reasons == ["wrong-type", "unknown-key"]


def test_wrong_type_and_wrong_issuer(services: Services, maker: SignatureMaker) -> None:
    row = maker.sign()
    header, payload, _ = parts(row.token)
    other_type = resign(services, row.token, {**header, "typ": "JWT"}, payload)
    assert verify(services, other_type).reasons == ["wrong-type"]
    no_type = resign(services, row.token, {k: v for k, v in header.items() if k != "typ"}, payload)
    assert verify(services, no_type).reasons == ["wrong-type"]
    elsewhere = resign(services, row.token, header, {**payload, "iss": "https://other.example"})
    result = verify(services, elsewhere)
    assert (result.valid, result.reasons) == (False, ["wrong-issuer"])


def garbage(token: str) -> Iterator[str]:
    head, body, sig = token.split(".")
    yield from ("", " ", "abc", "a.b", "a.b.c.d", f"{head}.{body}", f"{head}..{sig}")
    yield from (f"{head}.{body}.{sig}=", f"{head} .{body}.{sig}", f"{head}.{body}.{sig}é")
    yield "x" * (MAX_TOKEN_CHARS + 1)
    yield f"{encode({'alg': 'EdDSA'})}.{body}.{sig}"  # no kid
    yield f"{encode({'alg': 'EdDSA', 'kid': 7})}.{body}.{sig}"  # kid not a string
    yield f"{b64url(b'not json')}.{body}.{sig}"
    yield f"{b64url(b'[1, 2]')}.{body}.{sig}"  # JSON, not an object
    yield f"{b64url(bytes(range(256)))}.{body}.{sig}"


def test_malformed_tokens_are_named_so_and_never_raise(
    services: Services, maker: SignatureMaker
) -> None:
    row = maker.sign()
    for token in garbage(row.token):
        result = verify(services, token)
        assert (result.valid, result.reasons) == (False, ["malformed"]), token[:80]
    # Signed by our key but without the idgov claims: malformed, not valid.
    header, _, _ = parts(row.token)
    bare = resign(services, row.token, header, {"iss": maker.issuer, "jti": "x"})
    assert verify(services, bare).reasons == ["malformed"]


def test_random_input_never_raises(services: Services, maker: SignatureMaker) -> None:
    row = maker.sign()
    head, body, sig = row.token.split(".")
    rng = random.Random(11)
    alphabet = "ABCabc012-_.=é\x00 \n"
    for _ in range(300):
        noise = "".join(rng.choice(alphabet) for _ in range(rng.randint(0, 60)))
        for token in (noise, f"{head}.{noise}.{sig}", f"{head}.{body}.{noise}"):
            result = verify(services, token)
            assert not result.valid
            assert set(result.reasons) <= set(REASONS)
    # A kid that is no thumbprint (NUL, very long) is unknown without reaching the database.
    for kid in ("\x00", "k" * 500, "../etc"):
        forged = f"{encode({'alg': 'EdDSA', 'kid': kid, 'typ': TOKEN_TYPE})}.{body}.{sig}"
        assert verify(services, forged).reasons == ["unknown-key"]


@pytest.fixture
def es256(settings: Settings, clock: FrozenClock) -> Iterator[Services]:
    keys = KeySettings(passphrase="test-key-passphrase", algorithm="ES256")
    built = build_services(settings.model_copy(update={"keys": keys}), clock)
    yield built
    built.engine.dispose()


@pytest.mark.req("LNK-1")
def test_es256_tokens_verify_and_fail_like_eddsa_ones(es256: Services, clock: FrozenClock) -> None:
    maker = SignatureMaker(es256, clock)
    row = maker.sign()
    header, payload, sig = parts(row.token)
    assert header["alg"] == "ES256"
    assert verify(es256, row.token, digest=row.record_digest).valid
    forged = f"{row.token.rsplit('.', 2)[0]}.{encode({**payload, 'sub': 'x'})}.{sig}"
    assert verify(es256, forged).reasons == ["bad-signature"]
    # The alg in the header must be the key's: no algorithm confusion (RFC 7515 section 10.7).
    confused = f"{encode({**header, 'alg': 'EdDSA'})}.{encode(payload)}.{sig}"
    assert verify(es256, confused).reasons == ["bad-signature"]
    short = f"{encode(header)}.{encode(payload)}.{b64url(b'short')}"
    assert verify(es256, short).reasons == ["bad-signature"]


@pytest.mark.req("LNK-2")
def test_a_retired_key_still_verifies_its_signatures(
    services: Services, maker: SignatureMaker
) -> None:
    before = maker.sign()
    maker.rotate()
    after = maker.sign(record_ref("SOP-0099"))
    assert before.kid != after.kid
    for row in (before, after):
        assert verify(services, row.token, digest=row.record_digest).valid
    with services.sessions() as session:
        jwks = services.keys.jwks(session)
    published = {entry["kid"]: entry for entry in jwks["keys"]}
    assert "idgov_valid_until" in published[before.kid]  # retired, still published
    assert "idgov_valid_until" not in published[after.kid]
    for row in (before, after):
        assert verify_with_jwks(row.token, jwks, issuer=maker.issuer).valid


@pytest.mark.req("LNK-2")
def test_offline_verification_uses_only_signature_keys_of_the_jwks(
    services: Services, maker: SignatureMaker
) -> None:
    row = maker.sign()
    with transaction(services.sessions) as session:
        services.keys.create(session, "audit", reason="test")
        checkpoint = services.checkpoints.issue(session).token
        jwks = services.keys.jwks(session)
    record = RecordKey(row.record_type, row.record_id, row.record_version)
    assert verify_with_jwks(row.token, jwks, digest=row.record_digest, record=record).valid
    assert verify_with_jwks(checkpoint, jwks).reasons == ["wrong-type", "unknown-key"]
    assert verify_with_jwks(row.token, {"keys": []}).reasons == ["unknown-key"]
    broken = {"keys": [{"kid": row.kid, "kty": "OKP", "crv": "Ed25519"}, "junk", 3]}
    assert verify_with_jwks(row.token, broken).reasons == ["unknown-key"]
    assert verify_with_jwks(row.token, {"keys": "nope"}).reasons == ["unknown-key"]
    other = replace(record, version="9")
    assert verify_with_jwks(row.token, jwks, record=other).reasons == ["record-mismatch"]


def test_keys_are_cached_after_the_first_lookup(services: Services, maker: SignatureMaker) -> None:
    row = maker.sign()
    statements: list[str] = []

    def count(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        statements.append(statement)

    event.listen(services.engine, "before_cursor_execute", count)
    try:
        assert verify(services, row.token).valid
        first = len(statements)
        assert verify(services, row.token).valid
    finally:
        event.remove(services.engine, "before_cursor_execute", count)
    assert first >= 1
    assert len(statements) == first  # a known key takes no database round trip
