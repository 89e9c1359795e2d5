# Sanshe: `make demo` runs the platform with a demo district; `make test` runs the whole suite.
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
HOST ?= 127.0.0.1
PORT ?= 8000
DEMO_PEOPLE ?= 5000

.PHONY: demo serve install install-dev test lint pytest browser-deps bench clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip

$(VENV)/.installed: requirements.txt | $(BIN)/python
	$(BIN)/pip install -q -r requirements.txt
	touch $@

$(VENV)/.installed-dev: requirements.txt requirements-dev.txt | $(BIN)/python
	$(BIN)/pip install -q -r requirements-dev.txt
	touch $@ $(VENV)/.installed

$(VENV)/.installed-bench: requirements.txt requirements-dev.txt requirements-bench.txt | $(BIN)/python
	$(BIN)/pip install -q -r requirements-bench.txt
	touch $@ $(VENV)/.installed-dev $(VENV)/.installed

install: $(VENV)/.installed
install-dev: $(VENV)/.installed-dev

demo: install
	$(BIN)/python -m sanshe genkeys
	SANSHE_DEMO=1 $(BIN)/python manage.py migrate --noinput
	SANSHE_DEMO=1 $(BIN)/python manage.py collectstatic --noinput -v0
	SANSHE_DEMO=1 $(BIN)/python manage.py generate_demo --people $(DEMO_PEOPLE) --if-empty
	@$(MAKE) --no-print-directory serve

# The web server and its workers side by side: background jobs (imports, monthly runs), notice
# activation, delivery watch, text messages, dispatch of requested orders, orders from care plans.
serve: install
	@SANSHE_DEMO=1 $(BIN)/python manage.py demo_accounts
	@echo "平台地址：http://$(HOST):$(PORT)/    接口文档：http://$(HOST):$(PORT)/api/v1/docs    按 Ctrl+C 停止"
	@trap 'kill 0' INT TERM EXIT; \
	SANSHE_DEMO=1 $(BIN)/python manage.py db_worker --interval 0.5 >var/worker.log 2>&1 & \
	SANSHE_DEMO=1 $(BIN)/python manage.py activate_notices --every 3600 >var/notices.log 2>&1 & \
	SANSHE_DEMO=1 $(BIN)/python manage.py watch_deliveries --every 60 >var/watch.log 2>&1 & \
	SANSHE_DEMO=1 $(BIN)/python manage.py send_messages --every 2 >var/messages.log 2>&1 & \
	SANSHE_DEMO=1 $(BIN)/python manage.py dispatch_orders --every 30 >var/dispatch.log 2>&1 & \
	SANSHE_DEMO=1 $(BIN)/python manage.py generate_orders --every 3600 >var/orders.log 2>&1 & \
	SANSHE_DEMO=1 $(BIN)/python manage.py runserver --noreload $(HOST):$(PORT)

# Chromium for the browser tests comes from Debian (no browser downloads).
browser-deps:
	@bash scripts/ensure-browser

lint: install-dev
	$(BIN)/ruff check sanshe tests bench
	SANSHE_TESTING=1 $(BIN)/mypy sanshe
	SANSHE_TESTING=1 $(BIN)/lint-imports

pytest: install-dev browser-deps
	$(BIN)/pytest $(PYTEST_ARGS)

test: lint pytest

bench: $(VENV)/.installed-bench
	$(BIN)/python bench/run.py $(BENCH_ARGS)

clean:
	rm -rf $(VENV) var
