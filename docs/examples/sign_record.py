#!/usr/bin/env python3
"""Sign a record through idgov from a host application, with the standard library only.

    export IDGOV_URL=https://idgov.example.com IDGOV_CLIENT_ID=cl_... IDGOV_CLIENT_SECRET=...
    python sign_record.py --username jdoe --meaning approval \\
        --type sop --id SOP-0042 --version 4 --file SOP-0042-v4.pdf --token-out sop.jws

The signer types their password (and one-time code, if they have a token) at the prompt: it
never appears on a command line. The manifestation is printed for the record's human-readable
copy (MAN-2); the token is saved for later verification (verify_offline.py).
Exit status: 0 signed, 1 refused (the problem type and detail are printed), 2 bad arguments.
"""

from __future__ import annotations

import argparse
import base64
import getpass
import hashlib
import json
import os
import sys
import urllib.error
import urllib.parse
import urllib.request
from pathlib import Path
from typing import Any


class Refused(Exception):
    """idgov answered with an RFC 9457 problem (or an OAuth error); str() says which."""

    def __init__(self, status: int, document: dict[str, Any]) -> None:
        kind = document.get("type") or document.get("error", "error")
        detail = document.get("detail") or document.get("error_description", "")
        super().__init__(f"{status} {kind}: {detail}")
        self.status, self.document = status, document


def record_digest(content: bytes) -> str:
    """What idgov binds the signature to: "sha256:" and the hex SHA-256 of the content."""
    return "sha256:" + hashlib.sha256(content).hexdigest()


def call(url: str, headers: dict[str, str], data: bytes | None = None) -> dict[str, Any]:
    """POST `data` (GET without it) and the JSON answer; Refused for an error answer."""
    if not url.startswith(("https://", "http://")):
        raise ValueError("the idgov URL must start with https:// (or http:// for a test)")
    method = "GET" if data is None else "POST"
    request = urllib.request.Request(url, data, headers, method=method)  # noqa: S310 - checked
    try:
        with urllib.request.urlopen(request, timeout=30) as response:  # noqa: S310 - checked
            answer: dict[str, Any] = json.load(response)
            return answer
    except urllib.error.HTTPError as error:
        try:
            document = json.load(error)
        except ValueError:
            document = {"detail": error.reason}
        raise Refused(error.code, document) from None


def get_token(base_url: str, client_id: str, secret: str) -> str:
    """An access token by OAuth 2.0 client credentials (RFC 6749 section 4.4)."""
    basic = base64.b64encode(f"{client_id}:{secret}".encode()).decode("ascii")
    answer = call(
        base_url.rstrip("/") + "/oauth/token",
        {"Authorization": f"Basic {basic}", "Accept": "application/json"},
        urllib.parse.urlencode({"grant_type": "client_credentials"}).encode("ascii"),
    )
    return str(answer["access_token"])


def sign(base_url: str, access_token: str, body: dict[str, Any]) -> dict[str, Any]:
    """POST /api/v1/signatures; the 201 answer (id, token, manifestation, signing_session)."""
    return call(
        base_url.rstrip("/") + "/api/v1/signatures",
        bearer(access_token),
        json.dumps(body).encode("utf-8"),
    )


def bearer(access_token: str) -> dict[str, str]:
    """Headers of a JSON call with the host's access token (RFC 6750)."""
    return {
        "Authorization": f"Bearer {access_token}",
        "Content-Type": "application/json",
        "Accept": "application/json",
    }


def signing_body(args: argparse.Namespace, password: str, otp: str | None) -> dict[str, Any]:
    record = {
        "type": args.type,
        "id": args.id,
        "version": args.version,
        "digest": record_digest(args.file.read_bytes()),
    }
    if args.title:
        record["title"] = args.title
    body: dict[str, Any] = {
        "username": args.username,
        "password": password,
        "meaning": args.meaning,
        "record": record,
    }
    optional = {"otp": otp, "reason": args.reason, "signing_session": args.signing_session}
    body.update({name: value for name, value in optional.items() if value})
    return body


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--url", default=os.environ.get("IDGOV_URL"), help="or IDGOV_URL")
    parser.add_argument("--client-id", default=os.environ.get("IDGOV_CLIENT_ID"))
    parser.add_argument("--username", required=True, help="the signer")
    parser.add_argument("--meaning", required=True, help="e.g. authorship, review, approval")
    parser.add_argument("--reason", help="optional reason, printed in the manifestation")
    parser.add_argument("--type", required=True, help="record type, e.g. sop")
    parser.add_argument("--id", required=True, help="record id, e.g. SOP-0042")
    parser.add_argument("--version", required=True, help="record version, e.g. 4")
    parser.add_argument("--title", help="optional record title")
    parser.add_argument("--file", type=Path, required=True, help="the record's content")
    parser.add_argument("--otp", action="store_true", help="prompt for a one-time code too")
    parser.add_argument("--signing-session", help="continue an earlier signing session")
    parser.add_argument("--token-out", type=Path, help="save the signature token here")
    args = parser.parse_args(argv)
    secret = os.environ.get("IDGOV_CLIENT_SECRET")
    if not (args.url and args.client_id and secret):
        parser.error("set --url/IDGOV_URL, --client-id/IDGOV_CLIENT_ID and IDGOV_CLIENT_SECRET")
    password = getpass.getpass(f"password for {args.username}: ")
    otp = input("one-time code: ").strip() if args.otp else None
    try:
        access_token = get_token(args.url, args.client_id, secret)
        answer = sign(args.url, access_token, signing_body(args, password, otp))
    except Refused as refused:
        print(f"refused: {refused}", file=sys.stderr)
        return 1
    print(answer["manifestation"]["text"])  # MAN-2: print this next to the record
    print(f"signature {answer['id']}; signing session {answer['signing_session']['id']}")
    if args.token_out:
        args.token_out.write_text(answer["token"] + "\n", encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
