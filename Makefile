# The two commands: `make run` and `make test` (plus `make bench`). Each installs what it needs.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
PORT ?= 8000
WORKERS ?= 2
THREADS ?= 4
export FLASK_APP := wsgi

.PHONY: run test bench system venv lint clean

system:
	@./scripts/system-deps $(EXTRA_PACKAGES)

$(BIN)/.installed: requirements.txt
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip
	$(BIN)/pip install -q -r requirements.txt
	@touch $@

venv: $(BIN)/.installed

run: system venv
	$(BIN)/flask db upgrade
	$(BIN)/flask demo load --print-tokens
	@echo "API docs: http://127.0.0.1:$(PORT)/api/v1/docs   web UI: http://127.0.0.1:$(PORT)/"
	$(BIN)/gunicorn --workers $(WORKERS) --worker-class gthread --threads $(THREADS) --timeout 300 --max-requests 500 --max-requests-jitter 50 --bind 127.0.0.1:$(PORT) --access-logfile - wsgi:app

# The browser tests drive Debian's chromium (tests/web/test_browser.py).
test: EXTRA_PACKAGES += chromium
test: system venv
	$(BIN)/python -m pytest -q -p no:cacheprovider $(PYTEST_ARGS)

bench: system venv
	@failed=""; for b in bench/*.py; do case $$b in */_*) continue;; esac; \
	  echo "== $$b"; $(BIN)/python $$b || failed="$$failed $$b"; done; \
	  if [ -n "$$failed" ]; then echo "bench failed:$$failed"; exit 1; fi

lint: venv
	$(BIN)/ruff check fundsvc tests bench
	$(BIN)/ruff format --check fundsvc tests bench

clean:
	rm -rf $(VENV) instance .pytest_cache .hypothesis
