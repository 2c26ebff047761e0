"""ValidationReport: IQ, OQ, matrix and comparison into a sealed package, its hashes recorded
in the target's audit trail (VAL-1, 11.10(a); sealing: RFC 7515 appendix F, AUD-1)."""

from __future__ import annotations

import hashlib
import json
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session, sessionmaker

from idgov.audit.checkpoints import CheckpointService
from idgov.audit.context import Target
from idgov.audit.trail import AuditTrail
from idgov.audit.verify import ChainVerifier
from idgov.clock import Clock
from idgov.config import Settings
from idgov.db import transaction
from idgov.errors import InvalidRequest, KeyUnavailable
from idgov.keys.store import KeyStore
from idgov.validation.catalogue import CATALOGUE_FILE, catalogue_text, parse_catalogue
from idgov.validation.compare import compare_evidence
from idgov.validation.conclusion import Conclusion, conclude
from idgov.validation.configuration import configuration_in_force
from idgov.validation.database_checks import database_checks, engine_version
from idgov.validation.installation import inspect_installation
from idgov.validation.interfaces import HttpProbe
from idgov.validation.matrix import build_matrix, unknown_requirements
from idgov.validation.oq import OqSelection, pytest_available, run_oq
from idgov.validation.pdf import write_report_pdf
from idgov.validation.presentation import write_report_html
from idgov.validation.sealing import seal, sha256_file, write_sums
from idgov.validation.service_checks import JWKS_PATH, chain_check, key_checks, readiness_check
from idgov.validation.shipped import find_suite

EVIDENCE_FORMAT = "idgov-validation-evidence/1"
REPORT_GENERATED = "validation:report:generated"
PACKAGE_FILES = ("evidence.json", "report.html", "report.pdf", "jwks.json", "oq-pytest.log")


@dataclass(frozen=True)
class ReportRequest:
    output: Path
    selection: OqSelection
    previous: dict[str, Any] | None = None
    partial_ok: bool = False


class ValidationReport:
    def __init__(
        self,
        settings: Settings,
        clock: Clock,
        engine: Engine,
        sessions: sessionmaker[Session],
        trail: AuditTrail,
        keys: KeyStore,
        checkpoints: CheckpointService,
        verifier: ChainVerifier,
    ) -> None:
        self._settings = settings
        self._clock = clock
        self._engine = engine
        self._sessions = sessions
        self._trail = trail
        self._keys = keys
        self._checkpoints = checkpoints
        self._verifier = verifier

    @staticmethod
    def check_output(output: Path) -> Path:
        """The package's directory, absolute; refused unless missing or empty (a package is
        sealed over all its files: nothing else may be in it)."""
        if output.exists() and (not output.is_dir() or any(output.iterdir())):
            raise InvalidRequest(f"--output {output}: give a new or empty directory")
        return output.resolve()

    def generate(self, request: ReportRequest, probe: HttpProbe) -> Conclusion:
        """Write the package into `request.output` (missing or empty) and seal it."""
        output = self.check_output(request.output)
        output.mkdir(parents=True, exist_ok=True)
        evidence = self._evidence(request, output, probe)
        (output / "evidence.json").write_text(json.dumps(evidence, indent=1), encoding="utf-8")
        _, jwks = probe.get(JWKS_PATH)
        (output / "jwks.json").write_text(json.dumps(jwks, indent=1), encoding="utf-8")
        write_report_html(evidence, output / "report.html")
        write_report_pdf(evidence, output / "report.pdf")
        log = output / "oq-pytest.log"
        if not log.exists():
            log.write_text(evidence["oq"]["reason"] + "\n", encoding="utf-8")
        self._seal_and_record(output, evidence)
        return Conclusion(**evidence["conclusion"])

    def _evidence(self, request: ReportRequest, output: Path, probe: HttpProbe) -> dict[str, Any]:
        started = self._clock.now()
        suite = find_suite()
        engine = self._engine
        facts = inspect_installation(suite, with_tests=pytest_available())
        checks = [*facts.checks, *database_checks(engine, self._sessions, self._trail)]
        target = {
            "engine": engine.dialect.name,
            "version": engine_version(engine),
            "url": engine.url.render_as_string(hide_password=True),
        }
        checks += key_checks(self._sessions, self._keys, probe)
        checks += [
            readiness_check(probe),
            chain_check(self._sessions, self._verifier, self._checkpoints),
        ]
        text = catalogue_text()
        catalogue = parse_catalogue(text)
        oq = run_oq(suite, request.selection, engine.url, output / "oq-pytest.log")
        rows = build_matrix(catalogue, oq, request.selection)
        conclusion = conclude(checks, oq, rows, request.selection, request.partial_ok)
        evidence: dict[str, Any] = {
            "format": EVIDENCE_FORMAT,
            "report_id": str(uuid.uuid4()),
            "generated_at": started.isoformat(timespec="seconds").replace("+00:00", "Z"),
            "idgov_version": facts.version,
            "issuer": self._settings.server.base_url,
            "target": target,
            "catalogue": {
                "file": f"idgov/validation/{CATALOGUE_FILE}",
                "sha256": hashlib.sha256(text.encode("utf-8")).hexdigest(),
                "requirements": len(catalogue),
            },
            "selection": request.selection.as_json(),
            "suite": suite.kind if suite else None,
            "installation": {
                "checks": [check.as_json() for check in checks],
                "packages": facts.packages,
                "files": facts.files,
                "configuration": configuration_in_force(self._settings),
            },
            "oq": oq.as_json(),
            "matrix": [row.as_json() for row in rows],
            "unknown_requirements": unknown_requirements(oq, catalogue),
            "comparison": None,
            "conclusion": conclusion.as_json(),
        }
        if request.previous is not None:
            evidence["comparison"] = compare_evidence(request.previous, evidence)
        return evidence

    def _seal_and_record(self, output: Path, evidence: dict[str, Any]) -> None:
        """SHA256SUMS, its detached JWS under the audit key, and the audit event, together:
        an unsealed package leaves no event, a recorded one is sealed (fail closed)."""
        sums = write_sums(output, list(PACKAGE_FILES))
        with transaction(self._sessions) as session:
            key = self._keys.active(session, "audit")
            if key is None:
                raise KeyUnavailable(
                    "no audit signing key: run `idgov init` or `idgov keys rotate`"
                )
            seal(output, sums, key.kid, key.alg, self._keys.private_key(key))
            conclusion = evidence["conclusion"]
            self._trail.record(
                session,
                REPORT_GENERATED,
                Target("validation-report", evidence["report_id"]),
                new={
                    "version": evidence["idgov_version"],
                    "outcome": conclusion["outcome"],
                    "exit_code": conclusion["exit_code"],
                    "gaps": len(conclusion["gaps"]),
                    "report_pdf_sha256": sha256_file(output / "report.pdf"),
                    "evidence_json_sha256": sha256_file(output / "evidence.json"),
                    "sha256sums_sha256": hashlib.sha256(sums).hexdigest(),
                    "kid": key.kid,
                },
            )
