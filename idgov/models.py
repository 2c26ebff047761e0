"""Imports every model module so that Base.metadata knows all tables (Alembic, tests)."""

from idgov.alerts import models as alert_models
from idgov.audit import models as audit_models
from idgov.clients import models as client_models
from idgov.entitlements import models as entitlement_models
from idgov.identity import models as identity_models
from idgov.jobs import models as job_models
from idgov.keys import models as key_models
from idgov.policies import models as policy_models
from idgov.providers import models as provider_models
from idgov.providers.directory import models as directory_models
from idgov.providers.oidc import models as oidc_models
from idgov.reviews import models as review_models
from idgov.sessions import models as session_models
from idgov.signatures import models as signature_models
from idgov.signatures.ceremony import models as ceremony_models
from idgov.tokens import models as token_models

__all__ = [
    "alert_models",
    "audit_models",
    "ceremony_models",
    "client_models",
    "directory_models",
    "entitlement_models",
    "identity_models",
    "job_models",
    "key_models",
    "oidc_models",
    "policy_models",
    "provider_models",
    "review_models",
    "session_models",
    "signature_models",
    "token_models",
]
