"""The build step pyproject.toml cannot express: ship the test suite, pytest's settings and the
lock files inside the wheel (idgov/validation/suite/), so that `idgov validation-report` runs
its OQ from an installed wheel too (VAL-1, docs/validation/report.md)."""

from __future__ import annotations

import shutil
from pathlib import Path

from setuptools import setup
from setuptools.command.build_py import build_py

ROOT = Path(__file__).resolve().parent
NOT_SHIPPED = ("node_modules", "__pycache__", ".pytest_cache", "*.pyc")


class BuildWithSuite(build_py):
    """build_py, then tests/, pyproject.toml, config/, docs/examples/ and requirements/*.txt
    copied under the suite."""

    def run(self) -> None:
        super().run()
        if self.editable_mode:
            return  # an editable install runs the checkout's own tests/
        suite = Path(self.build_lib) / "idgov" / "validation" / "suite"
        shutil.rmtree(suite, ignore_errors=True)
        shutil.copytree(
            ROOT / "tests", suite / "tests", ignore=shutil.ignore_patterns(*NOT_SHIPPED)
        )
        shutil.copy2(ROOT / "pyproject.toml", suite / "pyproject.toml")
        # What the tests read beside tests/: the example configuration and host examples.
        for folder in ("config", "docs/examples"):
            shutil.copytree(
                ROOT / folder, suite / folder, ignore=shutil.ignore_patterns(*NOT_SHIPPED)
            )
        (suite / "requirements").mkdir()
        for lock in ("run.txt", "test.txt"):
            shutil.copy2(ROOT / "requirements" / lock, suite / "requirements" / lock)


setup(cmdclass={"build_py": BuildWithSuite})
