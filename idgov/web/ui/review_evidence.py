"""Evidence pack downloads for admins and auditors (/admin/reviews/<id>/evidence.<format>)."""

from __future__ import annotations

import base64
import tempfile
from typing import IO

from flask import Blueprint, request, send_file
from flask.typing import ResponseReturnValue

from idgov.errors import Forbidden, IdgovError, NotFound
from idgov.reviews.evidence.services import FORMATS
from idgov.web.auth import refuse, roles_required
from idgov.web.context import services

bp = Blueprint("review_evidence", __name__, url_prefix="/admin/reviews")
MIMETYPES = {"pdf": "application/pdf", "csv": "text/csv", "json": "application/json"}
# A copy up to this size stays in memory; a bigger one (a million items) goes to a temporary
# file, so that it can be hashed and audited before the first byte is sent.
SPOOL_BYTES = 8 * 1024 * 1024
# A download writes an audit event (AUD-1), so another site must not make a signed-in admin's
# browser fetch it: the session cookie is SameSite=Lax, which a cross-site top-level GET still
# carries. Fetch Metadata (W3C; every current browser sends it) says where a request comes
# from: only our own pages ("same-origin") and a typed or bookmarked URL ("none") may download.
# A sibling subdomain ("same-site") is another site here. A client that sends no Sec-Fetch-Site
# is no current browser (a script holding the session), so it is not a cross-site trigger.
SAFE_SITES = frozenset({"same-origin", "none"})
CROSS_SITE = "evidence downloads start from idgov's own pages, not from another site"


@bp.get("/<id:campaign_id>/evidence.<fmt>")
@roles_required("admin", "auditor")
def download(campaign_id: str, fmt: str) -> ResponseReturnValue:
    """The campaign's evidence pack as PDF, CSV or JSON (REV-5, EXP-1). The copy is made
    whole and its `review:evidence:generated` event recorded before it is sent: no copy
    leaves without its audit event (AUD-1)."""
    if fmt not in FORMATS:
        return refuse(NotFound(f"evidence comes as {', '.join(FORMATS)}", field="format"))
    if request.headers.get("Sec-Fetch-Site", "none") not in SAFE_SITES:
        return refuse(Forbidden(CROSS_SITE, field="Sec-Fetch-Site"))
    built = services()
    spool: IO[bytes] = tempfile.SpooledTemporaryFile(max_size=SPOOL_BYTES)  # noqa: SIM115
    try:
        written = built.evidence.export(campaign_id, fmt, spool, "download")
    except IdgovError as refused:
        spool.close()
        return refuse(refused)
    except BaseException:
        spool.close()
        raise
    spool.seek(0)
    response = send_file(
        spool,
        mimetype=MIMETYPES[fmt],
        as_attachment=True,
        download_name=f"evidence-{written.campaign_id}.{fmt}",
        conditional=False,
        etag=False,
        max_age=0,
    )
    digest = bytes.fromhex(written.sha256.removeprefix("sha256:"))
    # RFC 9530: the representation's digest, for checking against the audit trail.
    response.headers["Repr-Digest"] = f"sha-256=:{base64.b64encode(digest).decode()}:"
    return response
