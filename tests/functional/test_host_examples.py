"""The host guide's examples, run: sign through HTTP, verify offline with PyJWT and joserfc."""

from __future__ import annotations

import importlib.util
import json
import sys
import threading
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest
from flask import Flask
from joserfc import jws
from joserfc.errors import BadSignatureError, SecurityWarning
from joserfc.jwk import KeySet
from werkzeug.serving import make_server

from idgov.clock import FrozenClock
from idgov.config import KeySettings, Settings
from idgov.wiring import Services, build_services
from tests.functional.hosts import register
from tests.functional.people import PASSWORD
from tests.functional.signing import prepare, signer
from tests.functional.signing_support import SignatureMaker, encode, parts, record_ref

EXAMPLES = Path(__file__).resolve().parents[2] / "docs" / "examples"
SOP = record_ref("SOP-0042", "4")
SOP_CONTENT = b"sop/SOP-0042/4"  # what record_ref's digest is the SHA-256 of


def example(name: str) -> ModuleType:
    """Import docs/examples/<name>.py as a module (the docs folder is not a package)."""
    spec = importlib.util.spec_from_file_location(f"idgov_example_{name}", EXAMPLES / f"{name}.py")
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def offline() -> ModuleType:
    return example("verify_offline")


@pytest.fixture
def maker(services: Services, clock: FrozenClock) -> SignatureMaker:
    return SignatureMaker(services, clock)


def published(services: Services) -> dict[str, Any]:
    """What /.well-known/jwks.json serves."""
    with services.sessions() as session:
        return services.keys.jwks(session)


def joserfc_claims(token: str, jwks: dict[str, Any], alg: str) -> dict[str, Any]:
    """Verify with joserfc (authlib's JOSE): the signature keys of the set, the alg pinned."""
    keys = KeySet.import_key_set(
        {"keys": [k for k in jwks["keys"] if k.get("idgov_purpose") == "signature"]}
    )
    if alg != "EdDSA":
        found = jws.deserialize_compact(token, keys, algorithms=[alg])
    else:
        # RFC 9864 deprecates the polymorphic "EdDSA" name (for "Ed25519"); joserfc says so,
        # and verifies when the algorithm is allowed explicitly.
        with pytest.warns(SecurityWarning, match="EdDSA is deprecated"):
            found = jws.deserialize_compact(token, keys, algorithms=[alg])
    claims: dict[str, Any] = json.loads(found.payload)
    return claims


@pytest.mark.req("LNK-1")
def test_pyjwt_verifies_an_idgov_token_and_the_records_content(
    offline: ModuleType, services: Services, maker: SignatureMaker
) -> None:
    row = maker.sign(SOP, reason="release")
    jwks = published(services)
    claims = offline.verify_token(
        row.token,
        jwks,
        content=SOP_CONTENT,
        record=("sop", "SOP-0042", "4"),
        issuer=maker.issuer,
        audience=maker.client_id,
    )
    assert claims["jti"] == row.id
    assert claims["manifest"]["printed_name"] == "Jane Doe"
    assert claims["record"]["digest"] == offline.record_digest(SOP_CONTENT) == SOP.digest


@pytest.mark.req("LNK-1")
def test_pyjwt_rejects_a_changed_record_another_record_or_another_signer(
    offline: ModuleType, services: Services, maker: SignatureMaker
) -> None:
    row = maker.sign(SOP)
    jwks = published(services)
    rejected = offline.SignatureRejected
    with pytest.raises(rejected, match="content differs"):
        offline.verify_token(row.token, jwks, content=SOP_CONTENT + b" edited")
    with pytest.raises(rejected, match="not sop:SOP-0042:5"):
        offline.verify_token(row.token, jwks, record=("sop", "SOP-0042", "5"))
    header, payload, sig = parts(row.token)
    for changed in (
        {"sub": "another-identity"},
        {"manifest": {**payload["manifest"], "printed_name": "John Roe"}},
    ):
        forged = f"{encode(header)}.{encode({**payload, **changed})}.{sig}"
        with pytest.raises(rejected, match="does not verify"):
            offline.verify_token(forged, jwks)
        with pytest.raises(BadSignatureError):
            joserfc_claims(forged, jwks, "EdDSA")
    with pytest.raises(rejected, match="Invalid issuer"):
        offline.verify_token(row.token, jwks, issuer="https://other.example")
    with pytest.raises(rejected, match="unknown key"):
        offline.verify_token(row.token, {"keys": []})
    with pytest.raises(rejected, match="malformed"):
        offline.verify_token("not a token", jwks)


@pytest.mark.req("LNK-2")
def test_a_token_signed_with_a_rotated_out_key_still_verifies_offline(
    offline: ModuleType, services: Services, maker: SignatureMaker
) -> None:
    old = maker.sign(SOP)
    maker.rotate()
    new = maker.sign(replace(SOP, version="5"))
    jwks = published(services)
    assert old.kid != new.kid
    retired = next(k for k in jwks["keys"] if k["kid"] == old.kid)
    assert "idgov_valid_until" in retired
    for row in (old, new):
        assert offline.verify_token(row.token, jwks)["jti"] == row.id
        assert joserfc_claims(row.token, jwks, "EdDSA")["jti"] == row.id


@pytest.mark.req("LNK-1")
@pytest.mark.req("LNK-2")
def test_two_jose_libraries_agree_on_es256_tokens(
    offline: ModuleType, settings: Settings, clock: FrozenClock
) -> None:
    keys = KeySettings(passphrase="test-key-passphrase", algorithm="ES256")
    es256 = build_services(settings.model_copy(update={"keys": keys}), clock)
    try:
        maker = SignatureMaker(es256, clock)
        row = maker.sign(SOP)
        jwks = published(es256)
        by_pyjwt = offline.verify_token(row.token, jwks, content=SOP_CONTENT)
        assert by_pyjwt == joserfc_claims(row.token, jwks, "ES256")
        header, payload, sig = parts(row.token)
        forged = f"{encode(header)}.{encode({**payload, 'sub': 'x'})}.{sig}"
        with pytest.raises(offline.SignatureRejected):
            offline.verify_token(forged, jwks)
        with pytest.raises(BadSignatureError):
            joserfc_claims(forged, jwks, "ES256")
    finally:
        es256.engine.dispose()


@pytest.fixture
def live(app: Flask) -> Iterator[str]:
    """The app served over real HTTP on a loopback port, for the standard-library client."""
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}"
    server.shutdown()
    thread.join(timeout=5)
    server.server_close()


@pytest.mark.req("MAN-2")
def test_the_examples_sign_over_http_and_verify_offline(
    live: str,
    services: Services,
    offline: ModuleType,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    client_app = example("sign_record")
    _, admin = prepare(services, host="lims")
    signer(services, "jdoe", admin, name="Jane Doe")
    client_id, secret = register(services, "eqms")
    record_file = tmp_path / "SOP-0042-v4.pdf"
    record_file.write_bytes(b"%PDF- the approved procedure")
    access = client_app.get_token(live, client_id, secret)
    args = client_app.argparse.Namespace(
        type="sop",
        id="SOP-0042",
        version="4",
        file=record_file,
        title=None,
        meaning="approval",
        username="jdoe",
        reason="release",
        signing_session=None,
    )
    answer = client_app.sign(live, access, client_app.signing_body(args, PASSWORD, None))
    assert answer["manifestation"]["text"].startswith("Electronically signed by Jane Doe (jdoe)")
    assert answer["manifestation"]["text"].endswith("; reason: release")
    with pytest.raises(client_app.Refused, match="401 urn:idgov:problem:invalid-credentials"):
        client_app.sign(live, access, client_app.signing_body(args, "wrong password", None))
    token_file = tmp_path / "sop.jws"
    token_file.write_text(answer["token"], encoding="utf-8")
    status = offline.main(
        [
            "--jwks",
            f"{live}/.well-known/jwks.json",
            "--token",
            f"@{token_file}",
            "--file",
            str(record_file),
            "--record",
            "sop:SOP-0042:4",
            "--audience",
            client_id,
            "--issuer",
            services.settings.server.base_url,
        ]
    )
    out = capsys.readouterr()
    assert status == 0, out.err
    assert "signed by   Jane Doe (jdoe)" in out.out
    record_file.write_bytes(b"%PDF- edited after signing")
    rejected = offline.main(
        [
            "--jwks",
            f"{live}/.well-known/jwks.json",
            "--token",
            answer["token"],
            "--file",
            str(record_file),
        ]
    )
    assert rejected == 1
    assert "content differs" in capsys.readouterr().err
