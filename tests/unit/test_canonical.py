"""The fast hash input is byte-for-byte the canonical JSON an inspector would compute."""

import hashlib
import json

import pytest

from idgov.audit.canonical import (
    REDACTED,
    SECRET_FIELDS,
    HashedFields,
    canonical_json,
    event_hash,
    hash_input,
    redact,
    reference_document,
)

TRICKY = [
    "plain",
    'quote " and \\ backslash',
    "line\nbreak\ttab",
    "Zoë Ω 東京 🙂",
    "\u2028",
    "\x00",
]


def fields(text: str, reason: str | None = "why", old: object = None) -> HashedFields:
    return HashedFields(
        seq=42,
        event_id="6b1d7a2e-0000-4000-8000-000000000001",
        occurred_at="2026-03-02T09:30:00.000001Z",
        actor_type="identity",
        actor_id=text,
        actor_name=text,
        action="policy:password:changed",
        target_type="policy",
        target_id=text,
        old_values=canonical_json(old),
        new_values=canonical_json(
            {"min_length": 12, "name": text, "nested": {"b": 1, "a": [1, 2]}}
        ),
        reason=reason,
        request_id=None,
        source_address="127.0.0.1",
        prev_hash="a" * 64,
    )


@pytest.mark.req("AUD-3")
@pytest.mark.parametrize("text", TRICKY)
@pytest.mark.parametrize("reason", [None, "a reason", "Zoë"])
def test_fast_input_equals_reference_canonical_json(text: str, reason: str | None) -> None:
    f = fields(text, reason, old={"x": text})
    assert hash_input(f) == canonical_json(reference_document(f))
    expected = hashlib.sha256(canonical_json(reference_document(f)).encode()).hexdigest()
    assert event_hash(f) == expected


@pytest.mark.req("AUD-3")
def test_any_field_change_changes_the_hash() -> None:
    base = fields("x")
    for name in HashedFields.__slots__:
        value = getattr(base, name)
        if name == "seq":
            changed = value + 1
        elif name in {"old_values", "new_values"}:
            changed = canonical_json({"other": 1})
        else:
            changed = (value or "") + "!"
        altered = HashedFields(
            **{**{n: getattr(base, n) for n in HashedFields.__slots__}, name: changed}
        )
        assert event_hash(altered) != event_hash(base), name


def test_canonical_json_sorts_keys_and_keeps_unicode() -> None:
    assert canonical_json({"b": 1, "a": "é"}) == '{"a":"é","b":1}'
    assert json.loads(canonical_json({"k": [1, None, True]})) == {"k": [1, None, True]}


def test_redact_hides_the_named_secret_fields_at_any_depth() -> None:
    value = {"password": "p", "nested": [{"client_secret": "s", "otp": "1"}], "name": "n"}
    assert redact(value) == {
        "password": REDACTED,
        "nested": [{"client_secret": REDACTED, "otp": REDACTED}],
        "name": "n",
    }


@pytest.mark.req("AUD-1")
def test_redact_keeps_regulated_values_whose_names_merely_look_secret() -> None:
    """Issue 17 finding 4: a pattern on key names hid who changed the OTP rule for signing."""
    value = {
        "require_otp": "roles",
        "otp_roles": ["admin"],
        "credential": "token",
        "must_change_password": True,
        "password_changed_at": "2026-03-02T09:30:00Z",
        "secret_rotated_at": "2026-03-02T09:30:00Z",
        "private_key_kid": "abc",
        "loss": {"credential": "password", "temporary_password": "Kiwi-7"},
    }
    assert redact(value) == {
        **value,
        "loss": {"credential": "password", "temporary_password": REDACTED},
    }


def test_every_named_secret_field_is_redacted() -> None:
    assert all(redact({name: "x"}) == {name: REDACTED} for name in SECRET_FIELDS)
    assert {"password", "new_password", "temporary_password", "client_secret"} <= SECRET_FIELDS
