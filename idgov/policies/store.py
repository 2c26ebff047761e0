"""PolicyStore: the policy in force now or at any past time; changes versioned and audited."""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any, TypeVar

from pydantic import BaseModel, ValidationError
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from idgov.audit.canonical import canonical_json
from idgov.audit.context import Target
from idgov.audit.trail import AuditTrail
from idgov.clock import Clock
from idgov.errors import NotFound, UnprocessableRequest
from idgov.policies.documents import POLICY_MODELS, Profile, default_policy
from idgov.policies.models import PolicyVersion

P = TypeVar("P", bound=BaseModel)
CURRENT_CACHE = "idgov.policies.current"


class PolicyStore:
    def __init__(self, clock: Clock, trail: AuditTrail, profile: Profile) -> None:
        self._clock = clock
        self._trail = trail
        self._profile = profile

    def current(self, session: Session, model: type[P]) -> P:
        """The policy in force now; read once per transaction (a request reads several)."""
        cache: dict[type[BaseModel], BaseModel] = session.info.setdefault(CURRENT_CACHE, {})
        if model not in cache:
            cache[model] = self.at(session, model, None)
        found = cache[model]
        assert isinstance(found, model)
        return found

    def at(self, session: Session, model: type[P], moment: datetime | None) -> P:
        """The policy in force at `moment` (now when None): CHG-1 'shown at any past time'."""
        kind = _kind_of(model)
        query = select(PolicyVersion.document).where(PolicyVersion.kind == kind)
        if moment is not None:
            query = query.where(PolicyVersion.effective_at <= moment)
        document = session.scalars(query.order_by(PolicyVersion.version.desc()).limit(1)).first()
        if document is None:
            baseline = default_policy(kind, self._profile)
            assert isinstance(baseline, model)
            return baseline
        return model.model_validate_json(document)

    def version(self, session: Session, kind: str, moment: datetime | None = None) -> int:
        """The version in force at `moment` (now when None); 0 is the baseline."""
        query = select(func.max(PolicyVersion.version)).where(PolicyVersion.kind == kind)
        if moment is not None:
            query = query.where(PolicyVersion.effective_at <= moment)
        return int(session.scalar(query) or 0)

    @property
    def profile(self) -> Profile:
        """The deployment's profile: the baseline (version 0) every policy starts from."""
        return self._profile

    def history(self, session: Session, kind: str) -> list[PolicyVersion]:
        """Every recorded version of `kind`, newest first (CHG-1: who, when, why)."""
        query = select(PolicyVersion).where(PolicyVersion.kind == kind)
        return list(session.scalars(query.order_by(PolicyVersion.version.desc())))

    def document(self, session: Session, kind: str, version: int) -> dict[str, Any]:
        """The values of `kind` as version `version` set them; 0 is the profile's baseline.
        NotFound naming the field when there is no such version."""
        if version == 0:
            return default_policy(kind, self._profile).model_dump(mode="json")
        stored = session.scalars(
            select(PolicyVersion.document).where(
                PolicyVersion.kind == kind, PolicyVersion.version == version
            )
        ).first()
        if stored is None:
            raise NotFound(f"the {kind} policy has no version {version}", field="version")
        found: dict[str, Any] = json.loads(stored)
        return found

    def change(
        self, session: Session, kind: str, changes: dict[str, Any], reason: str, changed_by: str
    ) -> BaseModel:
        """Apply `changes` to the current policy; refuses out-of-range values naming the field,
        and a change without a reason. Writes the new version and its audit event together."""
        if kind not in POLICY_MODELS:
            raise UnprocessableRequest(f"unknown policy {kind!r}", field="kind")
        if not reason or not reason.strip():
            raise UnprocessableRequest("a reason is required for a policy change", field="reason")
        model = POLICY_MODELS[kind]
        before = self.current(session, model)
        try:
            after = model.model_validate({**before.model_dump(), **changes})
        except ValidationError as exc:
            errors = [
                {"field": ".".join(str(p) for p in e["loc"]) or kind, "problem": e["msg"]}
                for e in exc.errors()
            ]
            described = "; ".join(f"{e['field']}: {e['problem']}" for e in errors)
            raise UnprocessableRequest(
                f"invalid policy values: {described}", errors=errors
            ) from None
        session.info.pop(CURRENT_CACHE, None)
        version = self.version(session, kind) + 1
        session.add(
            PolicyVersion(
                kind=kind,
                version=version,
                document=canonical_json(after.model_dump(mode="json")),
                reason=reason.strip(),
                changed_by=changed_by,
                effective_at=self._clock.now(),
            )
        )
        self._trail.record(
            session,
            f"policy:{kind}:changed",
            Target("policy", kind),
            old={"version": version - 1, **json.loads(before.model_dump_json())},
            new={"version": version, **json.loads(after.model_dump_json())},
            reason=reason.strip(),
        )
        return after


def _kind_of(model: type[BaseModel]) -> str:
    for kind, candidate in POLICY_MODELS.items():
        if candidate is model:
            return kind
    raise ValueError(f"{model.__name__} is not a policy model")
