# Two commands on a fresh machine with Python 3.11+: `make run` and `make test`.
PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed-$(shell cat pyproject.toml | cksum | cut -d' ' -f1)
HOST   ?= 127.0.0.1
PORT   ?= 5000

.PHONY: install run test lint typecheck bench bench-platform fuzz loadtest translations settings-table clean

install: $(STAMP)

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	rm -f $(VENV)/.installed-* && touch $@

# The web server, the outbox worker (it sends the SMS replies) and, without REDIS_URL, the
# embedded Redis: `flask dev` starts them and stops all three on Ctrl-C or SIGTERM.
run: install
	$(BIN)/flask --app app db upgrade
	$(BIN)/flask --app app users hint
	exec $(BIN)/flask --app app dev --host $(HOST) --port $(PORT)

test: install lint typecheck
	$(BIN)/python -m pytest

lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

typecheck: install
	$(BIN)/mypy

bench: install
	$(BIN)/python bench/engine_hop.py
	$(BIN)/python bench/ussd_hop.py
	$(BIN)/python bench/sms_hop.py
	$(BIN)/python bench/tree_publish.py
	$(BIN)/python bench/editor.py
	$(MAKE) fuzz
	$(MAKE) bench-platform

# The gateway fuzz at benchmark size (`make test` runs 40 examples of each): FUZZ_EXAMPLES for
# each of its five tests (USSD, USSD events, SMS incoming, SMS delivery, whole USSD sessions of
# random answers), 12,500 in all by default, on the embedded servers and, when DATABASE_URL and
# REDIS_URL are set, on those too. Zero 5xx, zero unhandled exceptions, every screen in its limits.
FUZZ_EXAMPLES ?= 2500
fuzz: install
	FUZZ_EXAMPLES=$(FUZZ_EXAMPLES) $(BIN)/python -m pytest -q -p no:cacheprovider --hypothesis-show-statistics tests/test_fuzz_gateways.py

# The CSO platform at BENCH_REPORTS generated reports in PostgreSQL (BENCH_DATABASE_URL: dropped
# and rebuilt, its name must contain "bench"): the inbox and report pages (bench/inbox.py), then
# the dashboard, the exports and each page's weight (bench/analysis.py, on the same database).
BENCH_DATABASE_URL ?= postgresql+psycopg://postgres@127.0.0.1:5432/kuf_bench
BENCH_REPORTS ?= 1000000
bench-platform: install
	$(BIN)/python bench/inbox.py --database-url $(BENCH_DATABASE_URL) --reports $(BENCH_REPORTS)
	$(BIN)/python bench/analysis.py --database-url $(BENCH_DATABASE_URL) --reuse

# Not part of `make test`: gunicorn + PostgreSQL (LOADTEST_DATABASE_URL, default database
# kuf_loadtest on 127.0.0.1, created and reset) + a redis-server of its own + wrk; see
# bench/loadtest/run.py. Then the gateway fuzz with 10,000 examples per endpoint (on the real
# servers too when DATABASE_URL and REDIS_URL are set).
LOADTEST_DATABASE_URL ?= postgresql+psycopg://postgres@127.0.0.1:5432/kuf_loadtest
loadtest: install
	LOADTEST_DATABASE_URL=$(LOADTEST_DATABASE_URL) $(BIN)/python bench/loadtest/run.py $(LOADTEST_ARGS)
	FUZZ_EXAMPLES=10000 $(BIN)/python -m pytest -q -p no:cacheprovider tests/test_fuzz_gateways.py

# Two catalogs per language: messages.po, what a phone shows (GSM-7, checked by `flask menus
# check`), and web.po, the web platform's pages (any character).
translations: install
	$(BIN)/pybabel extract -F babel.cfg -k N_ --ignore-dirs ".* ._ tests bench web notify" -o locales/messages.pot --no-location --omit-header .
	$(BIN)/pybabel update -i locales/messages.pot -d locales --no-fuzzy-matching
	$(BIN)/pybabel extract -F babel.cfg -k _l -k lazy_gettext -o locales/web.pot --no-location --omit-header web notify
	$(BIN)/pybabel update -D web -i locales/web.pot -d locales --no-fuzzy-matching

# The README's table of settings, from config.yaml's values and comments.
settings-table: install
	$(BIN)/python -m settings.reference README.md

clean:
	rm -rf $(VENV) instance .pytest_cache .mypy_cache .ruff_cache
