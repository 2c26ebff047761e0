"""The evidence pack as electronic copies: the JSON document and the CSV rows (EXP-1, REV-5)."""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

from idgov.clock import iso_utc
from idgov.counted import counted
from idgov.reviews.evidence.items import EvidenceItem, Person, SignoffEvidence
from idgov.reviews.evidence.pack import EvidencePack
from idgov.signatures.documents import manifestation_json

KIND = "idgov access-review evidence"
# fmt: off
CSV_COLUMNS = (
    "item_id", "stage", "grant_id", "holder_name", "account", "identity_id", "entitlement",
    "entitlement_description", "source_type", "source", "via", "flags", "suggestion",
    "reviewer", "reviewer_id", "escalation", "due_at", "decision", "justification",
    "decided_by", "decided_by_id", "decided_at", "signature_id", "signed_at", "manifestation",
    "signoff_digest", "remediation_status", "remediation_kind", "remediation_requested_at",
    "remediation_done_at", "remediation_verified_at", "remediation_verified_by",
    "remediation_attempts", "remediation_error", "exceptions",
)
# Ids, codes, times and digests stay verbatim; names, accounts and free text are guarded
# against spreadsheet formulas (exports.streams.guard_cell).
EXACT_COLUMNS = frozenset({
    "item_id", "stage", "grant_id", "identity_id", "source_type", "flags", "suggestion",
    "reviewer_id", "escalation", "due_at", "decision", "decided_by_id", "decided_at",
    "signature_id", "signed_at", "signoff_digest", "remediation_status", "remediation_kind",
    "remediation_requested_at", "remediation_done_at", "remediation_verified_at",
    "remediation_attempts", "exceptions",
})
# fmt: on


def when(moment: datetime | None) -> str | None:
    return None if moment is None else iso_utc(moment)


def person(who: Person | None) -> dict[str, Any] | None:
    if who is None:
        return None
    return {"id": who.id, "name": who.name, "username": who.username}


def signoff_document(signoff: SignoffEvidence) -> dict[str, Any]:
    return {
        "id": signoff.id,
        "reviewer": person(signoff.reviewer),
        "stage": signoff.stage,
        "items": signoff.item_count,
        "signature_id": signoff.signature_id,
        "manifestation": manifestation_json(signoff.manifestation),
        "digest": signoff.digest,
        "signed_record_digest": signoff.record_digest,
        "recomputed_digest": signoff.recomputed,
        "intact": signoff.intact,
        "check": signoff.check(),
        "token": signoff.token,  # the JWS: anyone can verify it offline (LNK-1, LNK-2)
    }


def metadata(pack: EvidencePack) -> dict[str, Any]:
    """The JSON copy's "export" object: everything but the items."""
    c, t, p = pack.campaign, pack.totals, pack.population
    return {
        "kind": KIND,
        "issuer": pack.issuer,
        "as_of": iso_utc(pack.as_of),
        "overdue_as_of": iso_utc(pack.deadline),
        "campaign": {
            "id": c.id,
            "name": c.name,
            "state": c.state,
            "definition": {"id": c.definition_id, "name": c.definition_name},
            "schedule": c.schedule,
            "reviewer_rule": c.reviewer_rule,
            "fallback_reviewer": person(c.fallback),
            "certify_justification": c.certify_justification,
            "duration_days": c.duration_days,
            "reminder_days": c.reminder_days,
            "escalation_days": c.escalation_days,
            "dormant_days": c.dormant_days,
            "started_by": c.started_by,
            "started_at": iso_utc(c.started_at),
            "due_at": iso_utc(c.due_at),
            "closing_at": when(c.closing_at),
            "closed_at": when(c.closed_at),
            "scope": c.scope,
        },
        "completeness": {
            **c.completeness,
            "population_hash": c.population_hash,
            "check": {
                "frozen_items": p.frozen,
                "found_items": p.found,
                "recomputed_hash": p.recomputed,
                "matches": p.matches,
                "statement": p.statement(),
            },
        },
        "totals": {
            "items": t.items,
            "items_per_stage": {str(stage): n for stage, n in t.stages.items()},
            "certified": t.certified,
            "revoked": t.revoked,
            "undecided": t.undecided,
            "decided_not_signed": t.unsigned,
            "signed": t.signed,
            "items_with_exceptions": t.with_exceptions,
        },
        "exceptions": t.exceptions,
        "remediation": t.remediation,
        "signoffs": [signoff_document(signoff) for signoff in pack.signoffs],
    }


def item_document(item: EvidenceItem) -> dict[str, Any]:
    signoff, remediation = item.signoff, item.remediation
    return {
        "id": item.id,
        "stage": item.stage,
        "grant_id": item.grant_id,
        "holder": {
            "identity_id": item.holder.id,
            "name": item.holder.name,
            "account": item.account,
        },
        "entitlement": {
            "name": item.entitlement,
            "description": item.entitlement_description,
            "source_type": item.source_type,
            "source": item.source,
            "via": item.via,
        },
        "flags": list(item.flags),
        "suggestion": item.suggestion,
        "reviewer": person(item.reviewer),
        "escalation": item.escalation,
        "due_at": iso_utc(item.due_at),
        "decision": item.decision,
        "justification": item.justification,
        "decided_by": person(item.decided_by),
        "decided_at": when(item.decided_at),
        "signoff": None
        if signoff is None
        else {
            "id": signoff.id,
            "signature_id": signoff.signature_id,
            "signed_at": iso_utc(signoff.manifestation.signed_at),
            "manifestation": signoff.manifestation.text(),
            "digest": signoff.digest,
        },
        "remediation": None
        if remediation is None
        else {
            "kind": remediation.kind,
            "status": remediation.status,
            "attempts": remediation.attempts,
            "requested_at": iso_utc(remediation.requested_at),
            "done_at": when(remediation.done_at),
            "verified_at": when(remediation.verified_at),
            "verified_by": remediation.verified_by,
            "last_error": remediation.last_error,
        },
        "exceptions": list(item.exceptions),
    }


def csv_row(item: EvidenceItem) -> dict[str, object]:
    signoff, rem = item.signoff, item.remediation
    return {
        "item_id": item.id,
        "stage": item.stage,
        "grant_id": item.grant_id,
        "holder_name": item.holder.name,
        "account": item.account,
        "identity_id": item.holder.id,
        "entitlement": item.entitlement,
        "entitlement_description": item.entitlement_description,
        "source_type": item.source_type,
        "source": item.source,
        "via": item.via,
        "flags": " ".join(item.flags),
        "suggestion": item.suggestion,
        "reviewer": item.reviewer.label(),
        "reviewer_id": item.reviewer.id,
        "escalation": item.escalation,
        "due_at": iso_utc(item.due_at),
        "decision": item.decision,
        "justification": item.justification,
        "decided_by": None if item.decided_by is None else item.decided_by.label(),
        "decided_by_id": None if item.decided_by is None else item.decided_by.id,
        "decided_at": when(item.decided_at),
        "signature_id": None if signoff is None else signoff.signature_id,
        "signed_at": None if signoff is None else iso_utc(signoff.manifestation.signed_at),
        "manifestation": None if signoff is None else signoff.manifestation.text(),
        "signoff_digest": None if signoff is None else signoff.digest,
        "remediation_status": None if rem is None else rem.status,
        "remediation_kind": None if rem is None else rem.kind,
        "remediation_requested_at": None if rem is None else iso_utc(rem.requested_at),
        "remediation_done_at": None if rem is None else when(rem.done_at),
        "remediation_verified_at": None if rem is None else when(rem.verified_at),
        "remediation_verified_by": None if rem is None else rem.verified_by,
        "remediation_attempts": None if rem is None else rem.attempts,
        "remediation_error": None if rem is None else rem.last_error,
        "exceptions": " ".join(item.exceptions),
    }


def csv_comments(pack: EvidencePack) -> str:
    """The CSV copy's heading: "# " comment lines before the header row (read them with
    pandas' comment="#", or skip lines starting with "#"; no item row starts with one, its
    first cell being the item id). One line each, line breaks in values flattened."""
    c, t, p = pack.campaign, pack.totals, pack.population
    lines = [
        f"{KIND} (REV-5, EXP-1): one row per review item after these comment lines",
        f"issuer: {pack.issuer}",
        f"campaign: {c.name} ({c.id})",
        f"state: {c.state}",
        f"as_of: {iso_utc(pack.as_of)}",
        f"definition: {c.definition_name} ({c.definition_id}), reviewer rule {c.reviewer_rule}",
        f"started: {iso_utc(c.started_at)} by {c.started_by}; due {iso_utc(c.due_at)}",
        f"closing_at: {when(c.closing_at) or '-'}; closed_at: {when(c.closed_at) or '-'}",
        f"scope: {json.dumps(c.scope, sort_keys=True)}",
        f"population_hash: {c.population_hash}",
        f"population_hash_algorithm: {c.completeness.get('hash_algorithm', '-')}",
        f"population_check: {p.statement()}",
        *(
            f"source {name}: {counted(n.get('grants', 0), 'grant')}, "
            f"{counted(n.get('entitlements', 0), 'entitlement')}, "
            f"last snapshot {c.completeness.get('snapshots', {}).get(name) or 'none'}"
            for name, n in c.completeness.get("sources", {}).items()
        ),
        f"items: {t.items}; certified {t.certified}, revoked {t.revoked}, "
        f"undecided {t.undecided}, decided but not signed {t.unsigned}, signed {t.signed}",
        "exceptions: " + ", ".join(f"{kind} {n}" for kind, n in t.exceptions.items()),
        "remediation: " + (", ".join(f"{s} {n}" for s, n in t.remediation.items()) or "none"),
        *(
            f"signoff {s.id}: {s.manifestation.text()}; signature {s.signature_id}; "
            f"digest {s.digest}; {s.check()}"
            for s in pack.signoffs
        ),
    ]
    return "".join("# " + " ".join(line.split()) + "\r\n" for line in lines)
