# resettle: `make run` to try it, `make test` to check it. See README.md.
SHELL := /bin/bash
.SHELLFLAGS := -o pipefail -c
# This machine's pip configuration names local package folders that may be absent; hide that noise.
QUIET_PIP := 2>&1 | { grep -v 'is ignored: it is neither a file nor a directory' || true; }
VENV ?= .venv
PY := $(VENV)/bin/python
FLASK := $(VENV)/bin/flask
export FLASK_APP := wsgi
CATALOG := resettle/translations/zh_Hans_CN/LC_MESSAGES/messages
# The extracted template (one per checkout when several work on one machine: POT=...).
POT ?= /tmp/resettle-messages.pot

# Debian packages: CJK fonts and HarfBuzz subsetting for PDFs; Chromium for the browser tests;
# pg_dump and pg_restore for backups on PostgreSQL.
RUN_PACKAGES := fonts-noto-cjk libharfbuzz-subset0 libpango-1.0-0 libpangoft2-1.0-0
TEST_PACKAGES := $(RUN_PACKAGES) chromium poppler-utils postgresql-client
# wrk: the load generator of bench/bench_public.py.
BENCH_PACKAGES := $(TEST_PACKAGES) wrk

.PHONY: run test bench install install-test system-run system-test system-bench translations \
        translations-update lint serve

$(VENV)/.installed: requirements.txt
	@test -x $(PY) || python3 -m venv $(VENV)
	@$(PY) -m pip install -q --disable-pip-version-check --upgrade pip $(QUIET_PIP)
	$(PY) -m pip install -q --disable-pip-version-check -r requirements.txt $(QUIET_PIP)
	@touch $@

$(VENV)/.installed-test: requirements-test.txt $(VENV)/.installed
	$(PY) -m pip install -q --disable-pip-version-check -r requirements-test.txt $(QUIET_PIP)
	@touch $@

install: $(VENV)/.installed
install-test: $(VENV)/.installed-test

system-run:
	@scripts/system-packages.sh $(RUN_PACKAGES)

system-test:
	@scripts/system-packages.sh --required $(TEST_PACKAGES)

system-bench:
	@scripts/system-packages.sh --required $(BENCH_PACKAGES)

$(CATALOG).mo: $(CATALOG).po $(VENV)/.installed
	@$(VENV)/bin/pybabel compile -d resettle/translations

translations: $(CATALOG).mo

# After adding strings: extract them, merge into the catalog, then translate the new entries.
# --ignore-dirs: pybabel skips directories starting with "_" unless told otherwise, and with
# them templates/_macros/ (tests/core/test_i18n.py walks the same directories).
translations-update: $(VENV)/.installed
	$(VENV)/bin/pybabel extract -F babel.cfg -k _l -k lazy_gettext -k chinese --ignore-dirs='.* __pycache__' --no-location --sort-output -o $(POT) .
	$(VENV)/bin/pybabel update -i $(POT) -d resettle/translations --no-fuzzy-matching -w 100

run: system-run install translations
	@$(FLASK) db upgrade
	@$(FLASK) demo seed --if-empty
	@$(FLASK) plan replan
	@$(FLASK) demo accounts
	@echo "Serving on http://127.0.0.1:5000 (Ctrl-C stops it); the public pages for residents: http://127.0.0.1:5000/public/"
	@echo "A job worker runs beside it (batches, PDF and Excel lists, imports): see My jobs (我的任务)."
	@$(FLASK) jobs worker & worker=$$!; trap 'kill $$worker 2>/dev/null; wait $$worker 2>/dev/null' EXIT INT TERM; \
	  $(FLASK) run --host 127.0.0.1 --port 5000

test: system-test install-test translations
	@scripts/run-tests.sh

# Benchmarks run on SQLite, and on PostgreSQL too when BENCH_DATABASE_URL is set or one answers.
bench: system-bench install-test translations
	@if [ -z "$${BENCH_DATABASE_URL:-}" ] && (exec 3<>/dev/tcp/127.0.0.1/5432) 2>/dev/null; then \
	  export BENCH_DATABASE_URL=postgresql+psycopg://postgres@127.0.0.1:5432/resettle_test; fi; \
	status=0; for f in bench/bench_*.py; do echo "== $$f"; $(PY) $$f 2>&1 | grep -v '^INFO  \[alembic' || status=1; done; exit $$status

lint: install-test
	$(VENV)/bin/ruff format --check resettle tests bench config.py wsgi.py
	$(VENV)/bin/ruff check resettle tests bench config.py wsgi.py
