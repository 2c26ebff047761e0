"""Signatures for auditors and administrators (/signatures): search, manifestation, check.

The same readers as `GET /api/v1/signatures` (web/api/signature_reads.READER_ROLES); the
check is the one every export makes (signatures/export.check_stored, LNK-1), and the
manifestation is shown as printed with the record (MAN-1, MAN-2).
"""

from __future__ import annotations

from flask import Blueprint, Response, render_template, request
from flask.typing import ResponseReturnValue

from idgov.db import reading
from idgov.errors import IdgovError
from idgov.signatures.export import check_stored
from idgov.signatures.reads import SignatureSearch
from idgov.web.api.signature_reads import READER_ROLES
from idgov.web.auth import refuse, roles_required
from idgov.web.context import services
from idgov.web.ui.forms import plain_field

bp = Blueprint("signature_pages", __name__, url_prefix="/signatures")
FIELDS = ("record", "digest", "signer")


@bp.get("")
@roles_required(*READER_ROLES)
def search() -> ResponseReturnValue:
    """Search by record (TYPE:ID or ID), content digest or signer: a GET form with a URL."""
    built = services()
    values = {name: request.args.get(name, "") for name in FIELDS}
    found, error = None, None
    if any(value.strip() for value in values.values()):
        with reading(built.sessions) as session:
            try:
                by = SignatureSearch(
                    record=plain_field(values, "record", 265),
                    digest=plain_field(values, "digest", 80),
                    signer=plain_field(values, "signer", 80),
                )
                found = built.signature_reader.search(session, by)
            except IdgovError as refused:
                error = refused
    page = render_template(
        "signatures/search.html",
        form=values,
        found=found,
        error=error,
        error_field=None if error is None else error.extensions.get("field"),
    )
    return Response(page, status=200 if error is None else error.status, mimetype="text/html")


@bp.get("/<id:signature_id>")
@roles_required(*READER_ROLES)
def signature(signature_id: str) -> ResponseReturnValue:
    """One signature: its manifestation as printed, its record, and its token checked now."""
    built = services()
    with reading(built.sessions) as session:
        try:
            document = built.signature_reader.get(session, signature_id)
        except IdgovError as refused:
            return refuse(refused)
        entry = check_stored(
            built.signature_verifier, document, built.signature_verifier.known_keys(session)
        )
    return render_template("signatures/signature.html", entry=entry, d=document)
