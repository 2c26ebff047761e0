# idgov: `make run` serves the embedded default with demo data; `make test` runs the whole suite
# on SQLite and PostgreSQL with the real servers. Both install what they need first.

PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
# The test run creates and drops databases of its own on this server (trust auth on loopback).
TEST_POSTGRES_URL ?= postgresql://postgres@127.0.0.1:5432/postgres
PYTEST_ARGS ?=

.PHONY: run test lint unit bench install install-test system-test-deps clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip

$(VENV)/.installed: $(BIN)/python pyproject.toml
	$(BIN)/pip install --quiet -e '.[postgres]'
	touch $@

$(VENV)/.installed-test: $(VENV)/.installed pyproject.toml
	$(BIN)/pip install --quiet -e '.[postgres,test]'
	touch $@

install: $(VENV)/.installed

install-test: $(VENV)/.installed-test

# Real servers the integration tests start themselves: OpenLDAP slapd (Debian packages); the
# browser the e2e tests drive: Debian's chromium (Playwright uses it, never a browser download).
# As root they are installed through apt; otherwise the command to run is printed and the
# tests that need them fail with the same hint.
system-test-deps:
	@if command -v slapd >/dev/null 2>&1 || [ -x /usr/sbin/slapd ]; then :; \
	elif [ "$$(id -u)" = 0 ]; then \
		echo "installing slapd and ldap-utils (apt)"; \
		echo "slapd slapd/no_configuration boolean true" | debconf-set-selections; \
		apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq slapd ldap-utils >/dev/null; \
	else \
		echo "slapd is missing: run 'sudo apt-get install -y slapd ldap-utils'"; \
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

test: install-test system-test-deps lint
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
	-$(BIN)/python bench/signature_verify.py
	-$(BIN)/python bench/ldap_sync.py
	-$(BIN)/python bench/ldap_sync.py --database-url $(TEST_POSTGRES_URL)
	-$(BIN)/python bench/ldap_bind.py
	-$(BIN)/python bench/review_campaign.py --database-url $(TEST_POSTGRES_URL)

clean:
	rm -rf $(VENV) instance build *.egg-info .pytest_cache .mypy_cache .ruff_cache
