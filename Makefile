# Portal developer entry points. The two that matter:
#   make run    set everything up, migrate, seed demo data, run web + worker + beat
#   make test   set everything up, lint, check migrations, run the test suite
# Heavy lifting lives in scripts/*.sh. Works from any cwd (make -C <repo> ...).

SHELL := /bin/bash
.SHELLFLAGS := -eu -o pipefail -c
.ONESHELL:
.NOTPARALLEL:
.DEFAULT_GOAL := help

ROOT := $(abspath $(dir $(lastword $(MAKEFILE_LIST))))
VENV := $(ROOT)/.venv
PYTEST_ARGS ?=
export PYTEST_ARGS

.PHONY: help setup services-up services-down services-status emulator-up emulator-down \
        run banner stop status test bench lint fmt

help:
	@echo "make run            set up, migrate, seed demo data, start web/worker/beat (Ctrl-C to stop)"
	@echo "make test           set up, lint, check migrations, pytest (PYTEST_ARGS='...' passes args)"
	@echo "make setup          apt packages (missing only) + .venv + services-up"
	@echo "make services-up    project-local PostgreSQL (:55432) + Redis (:56379); writes .local/env"
	@echo "make emulator-up    Azure emulator on https://127.0.0.1:8443 (adds AZURE_* to .local/env)"
	@echo "make stop           stop whatever run/services-up/emulator-up started"
	@echo "make status | bench | lint | fmt"

setup:
	@cd "$(ROOT)"
	t0=$$SECONDS
	bash scripts/setup.sh
	bash scripts/services.sh up
	echo "==> setup done in $$((SECONDS - t0)) s"

services-up:
	@bash "$(ROOT)/scripts/services.sh" up

services-down:
	@bash "$(ROOT)/scripts/services.sh" down

services-status status:
	@bash "$(ROOT)/scripts/services.sh" status
	bash "$(ROOT)/scripts/emulator.sh" status

emulator-up:
	@bash "$(ROOT)/scripts/emulator.sh" up

emulator-down:
	@bash "$(ROOT)/scripts/emulator.sh" down

run: setup emulator-up
	@cd "$(ROOT)"
	bash scripts/run.sh prepare
	$(MAKE) --no-print-directory -f "$(ROOT)/Makefile" banner
	bash scripts/run.sh serve

banner:
	@cd "$(ROOT)"
	echo
	echo "================================================================"
	echo " Portal is starting (web, celery worker, celery beat via honcho)"
	printf '   %-20s %s\n' "staff / public site" "http://localhost:8000/"
	printf '   %-20s %s\n' "tenant sites" "http://<slug>.localhost:8000/"
	printf '   %-20s %s\n' "Azure emulator" "https://127.0.0.1:8443/ (log: .local/emulator.log)"
	# ---- DEMO LOGINS (placeholder) ---------------------------------------------
	# `manage.py seed_demo` writes .local/demo-logins.txt (tenant URLs + logins);
	# it is shown verbatim here.
	if [ -f .local/demo-logins.txt ]; then
	  echo " Demo sites and logins:"
	  sed 's/^/   /' .local/demo-logins.txt
	else
	  echo " Demo tenants: http://sakura.localhost:8000/ http://fuji.localhost:8000/ http://minato.localhost:8000/"
	  echo " (demo logins: .local/demo-logins.txt was not written by seed_demo)"
	fi
	# ---- end DEMO LOGINS --------------------------------------------------------
	echo " Stop with Ctrl-C, then 'make stop' to stop PostgreSQL/Redis/emulator."
	echo "================================================================"
	echo

stop:
	@cd "$(ROOT)"
	bash scripts/run.sh stop
	bash scripts/emulator.sh down
	bash scripts/services.sh down

test: setup
	@bash "$(ROOT)/scripts/test.sh"

bench: setup
	@bash "$(ROOT)/scripts/run.sh" bench

lint:
	@cd "$(ROOT)"
	"$(VENV)/bin/ruff" check .
	"$(VENV)/bin/ruff" format --check .

fmt:
	@cd "$(ROOT)"
	"$(VENV)/bin/ruff" check --fix .
	"$(VENV)/bin/ruff" format .
