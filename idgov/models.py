"""Imports every model module so that Base.metadata knows all tables (Alembic, tests)."""

from idgov.audit import models as audit_models
from idgov.jobs import models as job_models
from idgov.keys import models as key_models

__all__ = ["audit_models", "job_models", "key_models"]
