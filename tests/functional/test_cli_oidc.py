"""`idgov identities link`: an administrator binds a person to their subject at an OpenID
provider, forever (UNQ-1); a subject already bound to someone else is refused and alerted."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import select

from idgov.identity.ledger import SUBJECT
from idgov.identity.models import IdentifierBinding
from idgov.wiring import Services
from tests.functional import test_cli
from tests.functional.people import events, person

Cli = test_cli.Cli
cli = test_cli.cli  # the fixture: `idgov` on this test's migrated database
ISSUER = "https://id.example.com"
CONFIG = f"""
[oidc.acme]
issuer = "{ISSUER}"
client_id = "idgov"
client_secret = "env://IDGOV_ACME_SECRET"
provisioning = "existing"
"""


@pytest.mark.req("UNQ-1")
def test_link_binds_the_subject_forever_and_refuses_it_to_another(
    cli: Cli, services: Services, tmp_path: Path
) -> None:
    config = tmp_path / "oidc.toml"
    config.write_text(CONFIG, encoding="utf-8")
    env = {"IDGOV_CONFIG": str(config)}
    jdoe = person(services, "jdoe")
    person(services, "mallory")

    linked = cli("identities", "link", "jdoe", "--provider", "acme", "--subject", "s-1", env=env)
    stolen = cli("identities", "link", "mallory", "--provider", "acme", "--subject", "s-1", env=env)
    unknown = cli("identities", "link", "jdoe", "--provider", "nope", "--subject", "s-2", env=env)

    assert linked.exit_code == 0, linked.output
    assert linked.stdout.strip() == "jdoe: linked to subject 's-1' at acme"
    assert stolen.exit_code == 1
    assert "belongs to another identity" in stolen.stderr
    assert unknown.exit_code == 1
    assert "no OpenID provider 'nope'" in unknown.stderr
    with services.sessions() as session:
        bound = session.scalars(
            select(IdentifierBinding.identity_id).where(
                IdentifierBinding.kind == SUBJECT, IdentifierBinding.namespace == ISSUER
            )
        ).all()
    assert bound == [jdoe]
    assert [e.target_id for e in events(services, "identity:identity:linked")] == [jdoe]
    assert len(events(services, "identity:identifier:reuse-refused")) == 1
