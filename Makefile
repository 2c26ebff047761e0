# idgov: `make run` serves the embedded default with demo data; `make test` runs the whole suite
# on SQLite and PostgreSQL with the real servers. Both install what they need first.

PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
# Locked installs (a validated system installs exactly what was tested): every package pinned
# with its hashes. `make lock` refreshes both files from pyproject.toml (docs: README, "Installing").
RUN_LOCK := requirements/run.txt
TEST_LOCK := requirements/test.txt
PIP_VERSION := 26.3
UV_VERSION := 0.13.9
UV_COMPILE = .venv-tools/bin/uv pip compile pyproject.toml --universal --python-version 3.11 \
	--generate-hashes --quiet --custom-compile-command "make lock" $(if $(UPGRADE),--upgrade)
# The test run creates and drops databases of its own on this server (trust auth on loopback).
TEST_POSTGRES_URL ?= postgresql://postgres@127.0.0.1:5432/postgres
PYTEST_ARGS ?=

.PHONY: run test lint unit bench install install-test system-test-deps node-test-deps quickstart lock clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet pip==$(PIP_VERSION)

# The lock, then idgov itself without resolving anything more; `pip check` proves the lock
# satisfies idgov's own requirements (a dependency missing from the lock fails here).
$(VENV)/.installed: $(BIN)/python pyproject.toml $(RUN_LOCK)
	$(BIN)/pip install --quiet --require-hashes -r $(RUN_LOCK)
	$(BIN)/pip install --quiet --no-deps -e .
	$(BIN)/pip check
	touch $@

$(VENV)/.installed-test: $(BIN)/python pyproject.toml $(TEST_LOCK)
	$(BIN)/pip install --quiet --require-hashes -r $(TEST_LOCK)
	$(BIN)/pip install --quiet --no-deps -e .
	$(BIN)/pip check
	touch $@

install: $(VENV)/.installed

install-test: $(VENV)/.installed-test

# Real servers the integration tests start themselves: OpenLDAP slapd, redis-server (shared
# throttle storage) and a Samba Active Directory domain controller (Debian packages; Samba
# only as root: it binds port 389); the browser the e2e tests drive: Debian's chromium
# (Playwright uses it, never a browser download). As root they are installed through apt;
# otherwise the command to run is printed and the tests that need them fail with the same hint.
system-test-deps:
	@if command -v slapd >/dev/null 2>&1 || [ -x /usr/sbin/slapd ]; then :; \
	elif [ "$$(id -u)" = 0 ]; then \
		echo "installing slapd and ldap-utils (apt)"; \
		echo "slapd slapd/no_configuration boolean true" | debconf-set-selections; \
		apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq slapd ldap-utils >/dev/null; \
	else \
		echo "slapd is missing: run 'sudo apt-get install -y slapd ldap-utils'"; \
	fi
	@if command -v samba-tool >/dev/null 2>&1 && [ -x /usr/sbin/samba ]; then :; \
	elif [ "$$(id -u)" = 0 ]; then \
		echo "installing samba for the Active Directory tests (apt)"; \
		apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq \
			samba samba-ad-dc samba-ad-provision winbind >/dev/null; \
	else \
		echo "samba is missing: run 'sudo apt-get install -y samba samba-ad-dc samba-ad-provision winbind'"; \
	fi
	@if command -v redis-server >/dev/null 2>&1; then :; \
	elif [ "$$(id -u)" = 0 ]; then \
		echo "installing redis-server for the shared-throttle and login-storm tests (apt)"; \
		apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq redis-server >/dev/null; \
	else \
		echo "redis-server is missing: run 'sudo apt-get install -y redis-server'"; \
	fi
	@if [ -x /usr/bin/chromium ]; then :; \
	elif [ "$$(id -u)" = 0 ]; then \
		echo "installing chromium for the browser tests (apt)"; \
		apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null; \
	else \
		echo "chromium is missing: run 'sudo apt-get install -y chromium'"; \
	fi
	@if command -v pg_isready >/dev/null 2>&1 && ! pg_isready -q -h 127.0.0.1 -p 5432 \
		&& [ "$$(id -u)" = 0 ] && [ -d /etc/postgresql ]; then \
		echo "starting the local PostgreSQL cluster"; \
		pg_ctlcluster --skip-systemctl-redirect $$(ls /etc/postgresql | tail -n 1) main start; \
	fi

# The OpenID provider the OIDC tests start: node's oidc-provider, installed exactly as locked in
# tests/oidc_provider/package-lock.json (npm ci) whenever the lock is newer than the install.
OIDC_PROVIDER := tests/oidc_provider
$(OIDC_PROVIDER)/node_modules/.package-lock.json: $(OIDC_PROVIDER)/package.json $(OIDC_PROVIDER)/package-lock.json
	@command -v node >/dev/null 2>&1 && command -v npm >/dev/null 2>&1 || { \
		echo "node and npm are missing (Node.js 20 or later): run 'sudo apt-get install -y nodejs npm'"; \
		exit 1; }
	cd $(OIDC_PROVIDER) && npm ci --no-audit --no-fund --loglevel=error

# axe-core, the accessibility engine every browser test runs on the pages it screenshots
# (tests/e2e/accessibility.py), installed the same way from tests/e2e/axe/package-lock.json.
AXE := tests/e2e/axe
$(AXE)/node_modules/.package-lock.json: $(AXE)/package.json $(AXE)/package-lock.json
	@command -v npm >/dev/null 2>&1 || { \
		echo "npm is missing (Node.js 20 or later): run 'sudo apt-get install -y nodejs npm'"; \
		exit 1; }
	cd $(AXE) && npm ci --no-audit --no-fund --loglevel=error

node-test-deps: $(OIDC_PROVIDER)/node_modules/.package-lock.json $(AXE)/node_modules/.package-lock.json

run: install
	$(BIN)/idgov demo
	$(BIN)/idgov serve --with-worker

# The import rules of docs/architecture.md: no domain package imports web, wiring or commands.
lint: install-test
	$(BIN)/ruff check idgov tests bench docs/examples
	$(BIN)/ruff format --check idgov tests bench docs/examples
	$(BIN)/mypy
	$(BIN)/pytest -q -p no:cacheprovider tests/unit/test_import_rules.py

unit: install-test
	$(BIN)/pytest -q tests/unit $(PYTEST_ARGS)

# The README's quick start from scratch, before the suite: `make run` in a fresh copy with a
# virtual environment of its own, then the built wheel installed with no extras (tests/smoke).
quickstart:
	$(PYTHON) tests/smoke/quickstart.py

test: install-test system-test-deps node-test-deps lint quickstart
	@echo "== pass 1: SQLite =="
	$(BIN)/pytest -q $(PYTEST_ARGS)
	@echo "== pass 2: PostgreSQL ($(TEST_POSTGRES_URL)) =="
	IDGOV_TEST_DATABASE_URL=$(TEST_POSTGRES_URL) $(BIN)/pytest -q $(PYTEST_ARGS)

# Each benchmark prints its figures and the ratio to its bound; a missed bound is reported
# (non-zero exit) without stopping the others.
bench: install-test
	-$(BIN)/python bench/audit_append.py
	-$(BIN)/python bench/audit_verify.py
	-$(BIN)/python bench/login_throughput.py
	-$(BIN)/python bench/lockout_alert_latency.py
	-$(BIN)/python bench/signing.py
	-$(BIN)/python bench/ceremony.py
	-$(BIN)/python bench/signature_verify.py
	-$(BIN)/python bench/ldap_sync.py
	-$(BIN)/python bench/ldap_sync.py --database-url $(TEST_POSTGRES_URL)
	-$(BIN)/python bench/ldap_bind.py
	-$(BIN)/python bench/review_campaign.py --database-url $(TEST_POSTGRES_URL)
	-$(BIN)/python bench/audit_trail_page.py --database-url $(TEST_POSTGRES_URL)
	-$(BIN)/python bench/person_page.py --database-url $(TEST_POSTGRES_URL)
	-$(BIN)/python bench/people_list.py --database-url $(TEST_POSTGRES_URL)

# Refresh the lock files from pyproject.toml, keeping the pinned versions that still fit;
# `make lock UPGRADE=1` moves every package to its newest allowed version. Commit both files.
lock:
	test -x .venv-tools/bin/uv || ($(PYTHON) -m venv .venv-tools && \
		.venv-tools/bin/pip install --quiet uv==$(UV_VERSION))
	$(UV_COMPILE) --extra postgres -o $(RUN_LOCK)
	$(UV_COMPILE) --extra postgres --extra test -c $(RUN_LOCK) -o $(TEST_LOCK)

clean:
	rm -rf $(VENV) .venv-tools instance build *.egg-info .pytest_cache .mypy_cache .ruff_cache \
		$(OIDC_PROVIDER)/node_modules $(AXE)/node_modules
