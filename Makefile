# The two commands: `make run` and `make test` (plus `make bench`). Each installs what it needs.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
PORT ?= 8000
WORKERS ?= 2
THREADS ?= 4
export FLASK_APP := wsgi

.PHONY: run test bench system venv venv-dev lint clean

system:
	@./scripts/system-deps $(EXTRA_PACKAGES)

# The runtime set (requirements.txt) for `make run`; the test and lint tools on top (requirements-dev.txt) for
# `make test`. Each stamp is remade when its list changes.
$(BIN)/.installed: requirements.txt
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip
	$(BIN)/pip install -q -r requirements.txt
	@touch $@

$(BIN)/.installed-dev: requirements-dev.txt $(BIN)/.installed
	$(BIN)/pip install -q -r requirements-dev.txt
	@touch $@

venv: $(BIN)/.installed

venv-dev: $(BIN)/.installed-dev

run: system venv
	$(BIN)/flask db upgrade
	$(BIN)/flask demo load --print-tokens
	@echo "API docs: http://127.0.0.1:$(PORT)/api/v1/docs   web UI: http://127.0.0.1:$(PORT)/"
	@# One job worker beside gunicorn (big documents: fundsvc/jobs), stopped with it (Ctrl-C, or gunicorn exiting).
	@$(BIN)/flask worker & worker=$$!; \
	  trap 'kill -TERM $$worker 2>/dev/null; wait $$worker' EXIT; trap 'exit 130' INT TERM; \
	  PROMETHEUS_MULTIPROC_DIR=$(CURDIR)/instance/prometheus $(BIN)/gunicorn -c deploy/gunicorn.conf.py --workers $(WORKERS) --threads $(THREADS) --bind 127.0.0.1:$(PORT) wsgi:app

# The browser tests drive Debian's chromium (tests/web/test_browser.py).
test: EXTRA_PACKAGES += chromium
test: system venv-dev
	$(BIN)/python -m pytest -q -p no:cacheprovider $(PYTEST_ARGS)

bench: system venv-dev
	@failed=""; for b in bench/*.py; do case $$b in */_*) continue;; esac; \
	  echo "== $$b"; $(BIN)/python $$b || failed="$$failed $$b"; done; \
	  if [ -n "$$failed" ]; then echo "bench failed:$$failed"; exit 1; fi

lint: venv-dev
	$(BIN)/ruff check fundsvc tests bench
	$(BIN)/ruff format --check fundsvc tests bench

clean:
	rm -rf $(VENV) instance .pytest_cache .hypothesis
