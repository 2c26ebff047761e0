"""A policy document as a form: one labelled input per field, read back with the field named.

The form only turns text into values; the ranges and rules stay the policy model's
(policies/documents.py), checked by PolicyStore.change exactly as for the API (CHG-1).
"""

from __future__ import annotations

import json
import types
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Literal, Union, get_args, get_origin

from pydantic import BaseModel

from idgov.errors import UnprocessableRequest

Widget = Literal["yesno", "choice", "number", "numbers", "words", "json"]
TEXT_MAX = 20_000  # a JSON list of webhooks or meanings is the longest field


@dataclass(frozen=True)
class PolicyField:
    name: str
    label: str
    widget: Widget
    optional: bool  # empty means "none" (no limit, no rotation ...)
    choices: tuple[str, ...]
    hint: str

    def shown(self, value: Any) -> str:
        """The value as the form's input holds it."""
        if value is None:
            return ""
        if self.widget == "yesno":
            return "yes" if value else "no"
        if self.widget in ("numbers", "words"):
            return ", ".join(str(item) for item in value)
        if self.widget == "json":
            return json.dumps(value, indent=2, ensure_ascii=False)
        return str(value)


def fields_of(model: type[BaseModel]) -> list[PolicyField]:
    """The model's fields in declaration order, each with its input and its documented range."""
    found = []
    for name, info in model.model_fields.items():
        annotation, optional = _unwrap(info.annotation)
        label = name.replace("_", " ").capitalize()
        bounds = _bounds(info.metadata)
        if annotation is bool:
            found.append(PolicyField(name, label, "yesno", False, ("yes", "no"), ""))
        elif get_origin(annotation) is Literal:
            choices = tuple(str(choice) for choice in get_args(annotation))
            found.append(PolicyField(name, label, "choice", optional, choices, ""))
        elif annotation is int:
            hint = f"{bounds}{'; empty: none' if optional else ''}"
            found.append(PolicyField(name, label, "number", optional, (), hint))
        elif get_origin(annotation) is list and get_args(annotation)[0] in (int, str):
            hint = f"comma-separated{'; ' + bounds if bounds else ''}"
            numbers = get_args(annotation)[0] is int
            widget: Widget = "numbers" if numbers else "words"
            found.append(PolicyField(name, label, widget, optional, (), hint))
        else:
            hint = f"JSON{'; ' + bounds if bounds else ''}{'; empty: none' if optional else ''}"
            found.append(PolicyField(name, label, "json", optional, (), hint))
    return found


def changes_of(
    fields: list[PolicyField], form: Mapping[str, str], current: Mapping[str, Any]
) -> dict[str, Any]:
    """The fields whose submitted value differs from `current`. A value that is not even of
    the field's kind (a word for a number, broken JSON) is refused naming every such field;
    nothing is changed then."""
    changes: dict[str, Any] = {}
    errors: list[dict[str, str]] = []
    for field in fields:
        if field.name not in form:
            continue  # not submitted: unchanged
        try:
            value = _value(field, form[field.name])
        except ValueError as problem:
            errors.append({"field": field.name, "problem": str(problem)})
            continue
        if value != current.get(field.name):
            changes[field.name] = value
    if errors:
        described = "; ".join(f"{e['field']}: {e['problem']}" for e in errors)
        raise UnprocessableRequest(f"invalid policy values: {described}", errors=errors)
    return changes


def _value(field: PolicyField, raw: str) -> Any:
    text = raw.strip()
    if len(text) > TEXT_MAX:
        raise ValueError(f"at most {TEXT_MAX} characters")
    if not text and field.optional:
        return None
    if field.widget == "yesno":
        if text not in ("yes", "no"):
            raise ValueError("choose yes or no")
        return text == "yes"
    if field.widget == "choice":
        if text not in field.choices:
            raise ValueError(f"choose one of {', '.join(field.choices)}")
        return text
    if field.widget == "number":
        return _integer(text)
    if field.widget in ("numbers", "words"):
        items = [item.strip() for item in text.split(",") if item.strip()]
        return [_integer(item) for item in items] if field.widget == "numbers" else items
    try:
        return json.loads(text)
    except json.JSONDecodeError as broken:
        raise ValueError(f"not valid JSON ({broken.msg} at line {broken.lineno})") from None


def _integer(text: str) -> int:
    digits = text.removeprefix("-")
    if not digits.isascii() or not digits.isdigit() or len(digits) > 12:
        raise ValueError(f"{text[:40]!r} is not a whole number")
    return int(text)


def _unwrap(annotation: Any) -> tuple[Any, bool]:
    """`X | None` as (X, True); anything else as (itself, False)."""
    if get_origin(annotation) in (Union, types.UnionType):
        kept = [arg for arg in get_args(annotation) if arg is not type(None)]
        if len(kept) == 1 and len(get_args(annotation)) == 2:
            return kept[0], True
    return annotation, False


def _bounds(metadata: list[Any]) -> str:
    """The range pydantic's Field(ge=, le=, max_length=) put in the field's metadata (the
    constraint objects are read by attribute: their package is pydantic's, not ours)."""
    parts = []
    for item in metadata:
        for attribute, text in (("ge", "at least {}"), ("le", "at most {}")):
            if getattr(item, attribute, None) is not None:
                parts.append(text.format(getattr(item, attribute)))
        if getattr(item, "max_length", None) is not None:
            parts.append(f"at most {item.max_length} items")
    return ", ".join(parts)
