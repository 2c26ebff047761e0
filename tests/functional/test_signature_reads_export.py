"""Reading signatures over the API, who may, and exporting them (LNK-1, MAN-2, EXP-1)."""

from __future__ import annotations

import csv
import io
import json
import re
from dataclasses import replace
from datetime import timedelta
from typing import Any

import pytest
from click.testing import CliRunner
from flask import Flask
from flask.testing import FlaskClient

from idgov import wiring
from idgov.cli import main
from idgov.clock import FrozenClock
from idgov.db import transaction
from idgov.exports import pdf, streams
from idgov.signatures.export import SignatureExporter, SignatureFilter
from idgov.signatures.models import Signature
from idgov.wiring import Services
from tests.functional.api_client import Api, sign_in
from tests.functional.hosts import bearer, register, token_for
from tests.functional.people import fast_hashing, person, problem
from tests.functional.signing import body as signing_body
from tests.functional.signing import prepare, signer
from tests.functional.signing import record as signing_record
from tests.functional.signing_support import SignatureMaker, digest_of, record_ref
from tests.functional.test_audit_export import pdf_text

BASE = "/api/v1/signatures"
SOP = record_ref("SOP-0042", "4")


@pytest.fixture
def maker(services: Services, clock: FrozenClock) -> SignatureMaker:
    fast_hashing(services)
    return SignatureMaker(services, clock)


def signed_in(app: Flask, services: Services, username: str, *roles: str) -> Api:
    person(services, username, roles=roles)
    return sign_in(app, username)


@pytest.fixture
def auditor(app: Flask, services: Services, maker: SignatureMaker) -> Api:
    return signed_in(app, services, "inspector", "auditor")


def sequence(maker: SignatureMaker) -> list[Signature]:
    """Authorship, review, approval of SOP-0042 v4; then v5 and another record."""
    return [
        maker.sign(SOP, username="alice", name="Alice Author", meaning="authorship"),
        maker.sign(SOP, username="bob", name="Bob Reviewer", meaning="review"),
        maker.sign(SOP, username="carol", name="Carol Approver", meaning="approval", reason="ok"),
        maker.sign(
            replace(SOP, version="5", digest=digest_of(b"v5")),
            username="alice",
            name="Alice Author",
            meaning="authorship",
        ),
        maker.sign(record_ref("SOP-0043"), username="bob", name="Bob Reviewer"),
    ]


@pytest.mark.req("MAN-2")
def test_a_records_signatures_come_in_signing_order_with_their_manifestation(
    auditor: Api, maker: SignatureMaker
) -> None:
    rows = sequence(maker)
    response = auditor.get(f"{BASE}?type=sop&id=SOP-0042&version=4")
    assert response.status_code == 200, response.get_data(as_text=True)
    found = response.get_json()["signatures"]
    assert [s["id"] for s in found] == [row.id for row in rows[:3]]
    assert [s["manifestation"]["meaning"] for s in found] == ["authorship", "review", "approval"]
    last = found[2]
    assert last["manifestation"]["text"] == (
        "Electronically signed by Carol Approver (carol) on 2026-03-02 09:33:00 UTC; "
        "meaning: approval: I approve this record.; reason: ok"
    )
    assert last["manifestation"]["signed_at"] == "2026-03-02T09:33:00.000000Z"
    assert last["record"] == {
        "type": "sop",
        "id": "SOP-0042",
        "version": "4",
        "digest": SOP.digest,
        "title": "Procedure SOP-0042",
    }
    assert last["token"] == rows[2].token
    every_version = auditor.get(f"{BASE}?type=sop&id=SOP-0042").get_json()["signatures"]
    assert [s["id"] for s in every_version] == [row.id for row in rows[:4]]
    assert auditor.get(f"{BASE}?type=sop&id=SOP-9999").get_json() == {"signatures": []}


def test_one_signature_by_id(auditor: Api, maker: SignatureMaker) -> None:
    row = maker.sign(SOP)
    response = auditor.get(f"{BASE}/{row.id}")
    assert response.status_code == 200
    body = response.get_json()
    assert (body["id"], body["kid"], body["identity_id"]) == (row.id, row.kid, row.identity_id)
    assert body["signing_session"] == {"id": row.signing_session_id, "seq": 1}
    assert body["components"] == ["username", "password"]
    for missing in ("0f0e5f1c-0000-4000-8000-000000000000", "x" * 500, "a%00b", "%E2%98%83"):
        problem(auditor.get(f"{BASE}/{missing}"), 404, "not-found")


def test_query_parameters_are_checked_by_name(auditor: Api) -> None:
    body = problem(auditor.get(BASE), 422, "invalid-request")
    assert {e["field"] for e in body["errors"]} == {"type", "id"}
    body = problem(auditor.get(f"{BASE}?type=sop&id=a%00b&extra=1"), 422, "invalid-request")
    assert {e["field"] for e in body["errors"]} == {"id", "extra"}
    problem(auditor.get(f"{BASE}?type=sop&id={'x' * 201}"), 422, "invalid-request")


@pytest.mark.parametrize(
    ("roles", "status"),
    [
        ((), 403),
        (("security_officer",), 403),
        (("reviewer",), 403),
        (("admin",), 200),
        (("auditor",), 200),
    ],
)
def test_people_read_signatures_as_auditor_or_admin(
    app: Flask, services: Services, maker: SignatureMaker, roles: tuple[str, ...], status: int
) -> None:
    row = maker.sign(SOP)
    caller = signed_in(app, services, "someone", *roles)
    for response in (
        caller.get(f"{BASE}/{row.id}"),
        caller.get(f"{BASE}?type=sop&id=SOP-0042"),
        caller.post(f"{BASE}/verify", {"token": row.token, "digest": SOP.digest}),
    ):
        assert response.status_code == status, response.get_data(as_text=True)


def test_anonymous_callers_get_a_bearer_challenge(client: FlaskClient) -> None:
    for response in (client.get(f"{BASE}/x"), client.post(f"{BASE}/verify", json={"token": "a"})):
        problem(response, 401, "unauthenticated")
        assert response.headers["WWW-Authenticate"].startswith("Bearer")


def test_a_person_must_send_the_csrf_token_to_verify(auditor: Api, maker: SignatureMaker) -> None:
    row = maker.sign(SOP)
    response = auditor.client.post(
        f"{BASE}/verify", json={"token": row.token, "digest": SOP.digest}
    )
    problem(response, 403, "forbidden")


@pytest.mark.req("LNK-1")
def test_hosts_read_only_their_own_signatures_and_verify_any(
    client: FlaskClient, services: Services, maker: SignatureMaker
) -> None:
    mine_id, mine_secret = register(services, "eqms")
    theirs = maker.sign(SOP)  # signed through the maker's host "lims"
    mine = maker.sign(SOP, username="bob", name="Bob Reviewer", client_id=mine_id)
    headers = bearer(token_for(client, mine_id, mine_secret))
    listed = client.get(f"{BASE}?type=sop&id=SOP-0042", headers=headers).get_json()
    assert [s["id"] for s in listed["signatures"]] == [mine.id]
    assert client.get(f"{BASE}/{mine.id}", headers=headers).status_code == 200
    problem(client.get(f"{BASE}/{theirs.id}", headers=headers), 404, "not-found")
    verified = client.post(
        f"{BASE}/verify", json={"token": theirs.token, "digest": SOP.digest}, headers=headers
    )
    assert verified.status_code == 200
    assert verified.get_json()["valid"] is True
    assert verified.get_json()["signature"]["client_id"] == maker.client_id


def test_a_host_without_the_signatures_scope_is_refused(
    client: FlaskClient, services: Services, maker: SignatureMaker
) -> None:
    client_id, secret = register(services, "hr-system", scopes=("entitlements",))
    headers = bearer(token_for(client, client_id, secret))
    response = client.get(f"{BASE}?type=sop&id=SOP-0042", headers=headers)
    assert response.status_code == 403
    bad = client.get(f"{BASE}?type=sop&id=SOP-0042", headers=bearer("not-a-token"))
    assert bad.status_code == 401


@pytest.mark.req("LNK-1")
def test_verify_answers_valid_or_the_reasons(auditor: Api, maker: SignatureMaker) -> None:
    row = maker.sign(SOP, reason="release")
    good = auditor.post(
        f"{BASE}/verify",
        {
            "token": row.token,
            "digest": SOP.digest,
            "record": {"type": "sop", "id": "SOP-0042", "version": "4"},
        },
    )
    assert good.status_code == 200
    body = good.get_json()
    assert (body["valid"], body["reasons"]) == (True, [])
    assert body["signature"]["id"] == row.id
    assert body["signature"]["manifestation"]["reason"] == "release"
    assert "token" not in body["signature"] or body["signature"]["token"] is None
    bad = auditor.post(
        f"{BASE}/verify",
        {
            "token": row.token,
            "digest": digest_of(b"edited"),
            "record": {"type": "sop", "id": "SOP-0042", "version": "5"},
        },
    ).get_json()
    assert (bad["valid"], bad["reasons"]) == (False, ["digest-mismatch", "record-mismatch"])
    for garbage in ("x", "é.é.é", "a.b.c", "\x00" * 50, "." * 19_999, row.token[:-4] + "AAAA"):
        answer = auditor.post(f"{BASE}/verify", {"token": garbage, "digest": SOP.digest})
        assert answer.status_code == 200, garbage[:40]
        assert answer.get_json()["valid"] is False
        assert answer.get_json()["signature"] is None


def test_verify_refuses_bad_bodies_by_field(auditor: Api) -> None:
    cases: list[tuple[Any, set[str]]] = [
        ({"token": "x" * 20_001, "digest": SOP.digest}, {"token"}),
        ({"token": "", "digest": SOP.digest}, {"token"}),
        ({"token": "a", "digest": "sha256:xyz"}, {"digest"}),
        ({"token": "a", "record": {"type": "sop"}}, {"record.id", "record.version"}),
        ({"token": "a", "digest": SOP.digest, "extra": 1}, {"extra"}),
        ({"token": 5, "digest": SOP.digest}, {"token"}),
        ({"token": "a"}, {"record"}),  # bound to nothing: digest or record is required
        ({"token": "a", "digest": SOP.digest, "aud": ""}, {"aud"}),
    ]
    for body, fields in cases:
        found = problem(auditor.post(f"{BASE}/verify", body), 422, "invalid-request")
        assert {e["field"] for e in found["errors"]} == fields, body
    problem(auditor.post(f"{BASE}/verify", ["token"]), 422, "invalid-request")
    problem(auditor.post(f"{BASE}/verify", None), 422, "invalid-request")


def test_the_openapi_document_describes_the_reads(client: FlaskClient) -> None:
    paths = client.get("/api/v1/openapi.json").get_json()["paths"]
    listing = paths["/api/v1/signatures"]["get"]
    assert {p["name"]: p["required"] for p in listing["parameters"]} == {
        "type": True,
        "id": True,
        "version": False,
    }
    assert "requestBody" in paths["/api/v1/signatures/verify"]["post"]
    assert "/api/v1/signatures/{signature_id}" in paths


# --- exports (EXP-1, MAN-2) ---------------------------------------------------------------


def exporter(services: Services) -> SignatureExporter:
    return SignatureExporter(
        services.engine, services.clock, "Acme Pharma QA", services.signature_verifier
    )


def export(services: Services, fmt: Any, flt: SignatureFilter | None = None) -> tuple[int, bytes]:
    out = io.BytesIO()
    written = exporter(services).write(fmt, flt or SignatureFilter(), out)
    return written, out.getvalue()


def tampered(services: Services, row: Signature) -> tuple[str, str]:
    """A row whose stored name differs from its token, and one whose token is not a JWS."""
    copies = []
    for n, changes in enumerate(({"printed_name": "Mallory"}, {"token": "garbage"})):
        fields = {c.name: getattr(row, c.name) for c in Signature.__table__.columns}
        copies.append({**fields, **changes, "id": f"00000000-0000-4000-8000-00000000000{n}"})
    with transaction(services.sessions) as session:
        session.add_all(Signature(**copy) for copy in copies)
    return copies[0]["id"], copies[1]["id"]


@pytest.mark.req("EXP-1")
@pytest.mark.req("MAN-2")
def test_csv_and_json_exports_carry_manifestations_and_token_checks(
    services: Services, maker: SignatureMaker
) -> None:
    rows = sequence(maker)
    forged, broken = tampered(services, rows[0])
    written, data = export(services, "csv")
    assert written == 7
    table = list(csv.DictReader(io.StringIO(data.decode("utf-8"))))
    by_id = {line["signature_id"]: line for line in table}
    approval = by_id[rows[2].id]
    assert approval["manifestation"] == (
        "Electronically signed by Carol Approver (carol) on 2026-03-02 09:33:00 UTC; "
        "meaning: approval: I approve this record.; reason: ok"
    )
    assert approval["signed_at"] == "2026-03-02T09:33:00.000000Z"
    assert (approval["record_digest"], approval["token"]) == (SOP.digest, rows[2].token)
    assert approval["token_status"] == "verified"
    assert by_id[forged]["token_status"].startswith("MISMATCH")
    assert by_id[broken]["token_status"] == "INVALID: malformed"
    written, data = export(services, "json")
    document = json.loads(data)
    assert document["export"]["signature_count"] == written == 7
    assert document["export"]["filter"] == dict.fromkeys(("since", "until", "identity", "record"))
    found = {s["id"]: s for s in document["signatures"]}
    assert found[rows[2].id]["manifestation"]["text"] == approval["manifestation"]
    assert found[rows[2].id]["token_status"] == "verified"


@pytest.mark.req("EXP-1")
def test_exports_filter_by_time_signer_and_record(
    services: Services, maker: SignatureMaker, clock: FrozenClock
) -> None:
    rows = sequence(maker)
    start = rows[0].signed_at

    def ids(flt: SignatureFilter) -> list[str]:
        data = json.loads(export(services, "json", flt)[1])
        return [s["id"] for s in data["signatures"]]

    assert ids(SignatureFilter(identity="BOB")) == [rows[1].id, rows[4].id]
    assert ids(SignatureFilter(record="sop:SOP-0043")) == [rows[4].id]
    assert ids(SignatureFilter(record="SOP-0042")) == [row.id for row in rows[:4]]
    window = SignatureFilter(since=start + timedelta(minutes=1), until=start + timedelta(minutes=3))
    assert ids(window) == [rows[1].id, rows[2].id]
    with pytest.raises(ValueError, match="later than"):
        SignatureFilter(since=start, until=start)


@pytest.mark.req("EXP-1")
@pytest.mark.req("MAN-2")
def test_html_shows_each_manifestation_escaped(services: Services, maker: SignatureMaker) -> None:
    rows = sequence(maker)
    maker.sign(SOP, username="eve", name="<script>Eve</script>", reason="<b>why</b>")
    forged, _ = tampered(services, rows[1])
    written, data = export(services, "html")
    page = data.decode("utf-8")
    assert written == 8
    assert "<script>Eve" not in page
    assert "&lt;script&gt;Eve" in page
    assert "Electronically signed by Carol Approver (carol) on 2026-03-02 09:33:00 UTC" in page
    assert "meaning: approval: I approve this record.; reason: ok" in page
    shown = re.findall(r'<tr id="sig-([^"]+)">', page)
    assert [i for i in shown if not i.startswith("00000000-")][:3] == [r.id for r in rows[:3]]
    assert SOP.digest in page
    assert rows[0].kid in page
    assert "2 OF 8 TOKENS FAILED VERIFICATION" in page
    assert f'id="sig-{forged}"' in page


@pytest.mark.req("EXP-1")
@pytest.mark.req("MAN-2")
def test_pdf_prints_the_manifestations(
    services: Services, maker: SignatureMaker, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(pdf, "find_unicode_font", lambda: None)  # readable text streams
    sequence(maker)
    written, data = export(services, "pdf")
    assert written == 5
    assert data.startswith(b"%PDF-")
    text = pdf_text(data)
    for fragment in (
        b"Electronically signed by",
        b"Carol Approver",
        b"reason: ok",
        b"Electronic signatures export",
        b"All 5 tokens verified",
    ):
        assert fragment in text, fragment


@pytest.mark.req("EXP-1")
@pytest.mark.parametrize("fmt", ["html", "pdf"])
def test_rendered_exports_are_capped(
    services: Services, maker: SignatureMaker, monkeypatch: pytest.MonkeyPatch, fmt: str
) -> None:
    sequence(maker)
    monkeypatch.setattr(streams, "RENDER_CAP", 2)
    out = io.BytesIO()
    with pytest.raises(ValueError, match=r"5 signatures match.*narrow the filter"):
        exporter(services).write(fmt, SignatureFilter(), out)  # type: ignore[arg-type]
    assert out.getvalue() == b""
    assert export(services, fmt, SignatureFilter(identity="bob"))[0] == 2
    assert export(services, "csv")[0] == 5


# --- the command line ---------------------------------------------------------------------


@pytest.fixture
def run(services: Services, monkeypatch: pytest.MonkeyPatch) -> Any:
    monkeypatch.setattr(wiring, "build_services", lambda _settings: services)

    def invoke(*args: str, stdin: str | None = None) -> Any:
        return CliRunner().invoke(main, list(args), input=stdin, catch_exceptions=False)

    return invoke


@pytest.mark.req("LNK-1")
def test_idgov_verify(run: Any, maker: SignatureMaker, tmp_path: Any) -> None:
    row = maker.sign(SOP, reason="release")
    result = run("verify", row.token, "--digest", SOP.digest, "--record", "sop:SOP-0042:4")
    assert result.exit_code == 0, result.output
    assert f"signature VALID: {row.id}" in result.stdout
    assert "Electronically signed by Jane Doe (jdoe)" in result.stdout
    saved = tmp_path / "token.jws"
    saved.write_text(row.token + "\n", encoding="utf-8")
    assert run("verify", f"@{saved}").exit_code == 0
    assert run("verify", "-", stdin=row.token).exit_code == 0
    bad = run("verify", row.token, "--digest", digest_of(b"edited"), "--record", "sop:X:4")
    assert bad.exit_code == 1
    assert "signature INVALID: digest-mismatch, record-mismatch" in bad.stderr
    assert run("verify", "nonsense").stderr.strip() == "signature INVALID: malformed"
    assert run("verify", row.token, "--digest", "md5:abc").exit_code == 2
    assert run("verify", row.token, "--record", "sop:1").exit_code == 2
    assert run("verify", f"@{tmp_path / 'missing'}").exit_code == 2


@pytest.mark.req("LNK-2")
def test_idgov_verify_offline_with_a_saved_jwks(
    run: Any, services: Services, maker: SignatureMaker, tmp_path: Any
) -> None:
    row = maker.sign(SOP)
    maker.rotate()
    with services.sessions() as session:
        (tmp_path / "jwks.json").write_text(json.dumps(services.keys.jwks(session)))
    result = run("verify", row.token, "--jwks", str(tmp_path / "jwks.json"))
    assert result.exit_code == 0, result.output
    (tmp_path / "bad.json").write_text("{")
    assert run("verify", row.token, "--jwks", str(tmp_path / "bad.json")).exit_code == 2


@pytest.mark.req("EXP-1")
def test_idgov_signatures_export(run: Any, maker: SignatureMaker, tmp_path: Any) -> None:
    sequence(maker)
    out = tmp_path / "signatures.csv"
    result = run(
        "signatures",
        "export",
        "--format",
        "csv",
        "--output",
        str(out),
        "--identity",
        "alice",
        "--record",
        "sop:SOP-0042",
    )
    assert result.exit_code == 0, result.output
    assert "2 signatures written" in result.stderr
    assert len(list(csv.DictReader(io.StringIO(out.read_text(encoding="utf-8"))))) == 2
    refused = run(
        "signatures",
        "export",
        "--format",
        "html",
        "--output",
        str(out),
        "--since",
        "2026-03-02T10:00:00",
        "--until",
        "2026-03-02T09:00:00",
    )
    assert refused.exit_code == 1
    assert "later than" in refused.stderr
    assert not out.exists()


@pytest.mark.req("LNK-1")
def test_signatures_from_the_signing_api_read_back_and_verify(
    client: FlaskClient, services: Services
) -> None:
    _, admin = prepare(services, host="lims")
    signer(services, "jdoe", admin, name="Jane Doe")
    client_id, secret = register(services, "eqms")
    headers = bearer(token_for(client, client_id, secret))
    batch = [signing_record("SOP-1"), signing_record("SOP-2")]
    answer = client.post(BASE, json=signing_body("jdoe", records=batch), headers=headers)
    assert answer.status_code == 201, answer.get_data(as_text=True)
    issued = answer.get_json()["signatures"]
    for sent, made in zip(batch, issued, strict=True):
        listed = client.get(f"{BASE}?type=sop&id={sent['id']}", headers=headers).get_json()
        (stored,) = listed["signatures"]
        assert (stored["id"], stored["token"]) == (made["id"], made["token"])
        assert stored["manifestation"]["text"] == made["manifestation"]["text"]
        assert stored["batch"]["merkle_root"] == answer.get_json()["merkle_root"]
        check = {
            "token": made["token"],
            "digest": sent["digest"],
            "record": {"type": "sop", "id": sent["id"], "version": sent["version"]},
        }
        verified = client.post(f"{BASE}/verify", json=check, headers=headers).get_json()
        assert (verified["valid"], verified["reasons"]) == (True, [])
        assert verified["signature"]["batch"] == stored["batch"]
