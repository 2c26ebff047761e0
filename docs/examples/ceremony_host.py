#!/usr/bin/env python3
"""A host application that gets a signature through idgov's signing ceremony, never a password.

It shows one record (an SOP), asks idgov for a signing request, sends the person's browser to
idgov's ceremony page, and on return reads the outcome and verifies the signature offline with
PyJWT against idgov's published keys. Register it, then run it:

    idgov clients add demo-host --scope signatures --return-url http://127.0.0.1:5001/signed
    export IDGOV_URL=http://127.0.0.1:8080 IDGOV_CLIENT_ID=cl_... IDGOV_CLIENT_SECRET=...
    pip install flask "pyjwt[crypto]"
    python ceremony_host.py --port 5001     # then open http://127.0.0.1:5001/

It imports sign_record.py and verify_offline.py from this folder.
"""

from __future__ import annotations

import argparse
import json
import os
import secrets
import sys
from typing import Any
from urllib.parse import quote

from flask import Flask, abort, redirect, render_template_string, request, session
from flask.typing import ResponseReturnValue
from sign_record import Refused, bearer, call, get_token, record_digest
from verify_offline import SignatureRejected, load_jwks, verify_token

DOCUMENT = b"SOP-0042 v4: Cleaning of the fermenter. 1. Drain. 2. Rinse. 3. Steam."
RECORD = {"type": "sop", "id": "SOP-0042", "version": "4", "title": "Cleaning of the fermenter"}

PAGE = """<!doctype html><html lang="en"><meta charset="utf-8"><title>Demo host</title>
<style>body { max-width: 50rem; margin: 2rem auto; font-family: sans-serif; }
  code { overflow-wrap: anywhere; }</style>
<h1>Demo host: {{ record.title }}</h1>
<pre>{{ document }}</pre>
<p>Record {{ record.type }} {{ record.id }} version {{ record.version }},
   digest <code>{{ digest }}</code></p>
{% if outcome %}<section id="outcome"><h2>{{ outcome.title }}</h2>
  {% for line in outcome.lines %}<p>{{ line }}</p>{% endfor %}
  {% if outcome.token %}<p>Token: <code id="token">{{ outcome.token }}</code></p>{% endif %}
</section>{% endif %}
<form method="post" action="/sign">
  <label for="signer">Signer's username (optional)</label>
  <input id="signer" name="signer">
  <button type="submit">Sign with idgov</button>
</form></html>"""


def create_app(idgov_url: str, client_id: str, client_secret: str) -> Flask:
    """The host: `/` shows the record, `/sign` starts a ceremony, `/signed` is the return URL
    registered at idgov (the URL this app is reached at, plus /signed)."""
    app = Flask(__name__)
    app.secret_key = secrets.token_bytes(32)
    # Cookies are per host name, not per port: beside idgov on 127.0.0.1, a cookie of our own.
    app.config["SESSION_COOKIE_NAME"] = "demo_host_session"
    base = idgov_url.rstrip("/")

    @app.get("/")
    def home() -> ResponseReturnValue:
        return _page(None)

    @app.post("/sign")
    def sign() -> ResponseReturnValue:
        # `state` ties the return to this browser's session (as in RFC 6749 section 10.12).
        session["state"] = state = secrets.token_urlsafe(24)
        body: dict[str, Any] = {
            "meaning": "approval",
            "reason": "Released for production use",
            "record": {**RECORD, "digest": record_digest(DOCUMENT)},
            "return_url": request.host_url + "signed",
            "state": state,
        }
        if request.form.get("signer"):
            body["signer"] = request.form["signer"]
        try:
            token = get_token(base, client_id, client_secret)
            created = call(
                f"{base}/api/v1/signing-requests", bearer(token), json.dumps(body).encode()
            )
        except Refused as refused:
            return _page({"title": "idgov refused the signing request", "lines": [str(refused)]})
        return redirect(created["ceremony_url"], code=303)

    @app.get("/signed")
    def signed() -> ResponseReturnValue:
        expected = session.pop("state", None)
        if expected is None or request.args.get("state") != expected:
            abort(400, "this return does not belong to a signing this browser started")
        request_id = request.args.get("signing_request", "")
        token = get_token(base, client_id, client_secret)
        answer = call(f"{base}/api/v1/signing-requests/{quote(request_id)}", bearer(token))
        if answer["status"] != "completed":
            why = answer.get("reason") or request.args.get("error", "")
            return _page({"title": f"Not signed: {answer['status']}", "lines": [why]})
        return _page(_verified(base, client_id, answer["result"]))

    return app


def _verified(base: str, client_id: str, result: dict[str, Any]) -> dict[str, Any]:
    """Check the token offline, as an inspector would: key, issuer, audience, content."""
    try:
        claims = verify_token(
            result["token"],
            load_jwks(f"{base}/.well-known/jwks.json"),
            content=DOCUMENT,
            record=(RECORD["type"], RECORD["id"], RECORD["version"]),
            issuer=base,
            audience=client_id,
        )
    except SignatureRejected as rejected:
        return {"title": "Signature REJECTED", "lines": [str(rejected)]}
    return {
        "title": "Signed and verified",
        "lines": [
            result["manifestation"]["text"],  # MAN-2: print this with the record
            f"Verified offline with PyJWT: signature {claims['jti']}, "
            f"method {claims['authn']['method']}.",
        ],
        "token": result["token"],
    }


def _page(outcome: dict[str, Any] | None) -> str:
    return render_template_string(
        PAGE,
        record=RECORD,
        document=DOCUMENT.decode(),
        digest=record_digest(DOCUMENT),
        outcome=outcome,
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--port", type=int, default=5001)
    args = parser.parse_args(argv)
    url, client_id = os.environ.get("IDGOV_URL"), os.environ.get("IDGOV_CLIENT_ID")
    secret = os.environ.get("IDGOV_CLIENT_SECRET")
    if not (url and client_id and secret):
        parser.error("set IDGOV_URL, IDGOV_CLIENT_ID and IDGOV_CLIENT_SECRET")
    create_app(url, client_id, secret).run("127.0.0.1", args.port)
    return 0


if __name__ == "__main__":
    sys.exit(main())
