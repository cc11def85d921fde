# The two commands a newcomer needs: `make run` and `make test`.
VENV   := .venv
PY     := $(VENV)/bin/python
FLASK  := $(VENV)/bin/flask
export FLASK_APP := wsgi
export PIP_DISABLE_PIP_VERSION_CHECK := 1

# Every folder holding a translation catalog: the core's and each plugin's.
CATALOG_DIRS = $(sort $(dir $(patsubst %/,%,$(dir $(patsubst %/,%,$(dir $(wildcard translations/*/LC_MESSAGES/*.po plugins/*/translations/*/LC_MESSAGES/*.po sections/*/translations/*/LC_MESSAGES/*.po))))))) 

.PHONY: run test bench catalogs messages setup clean system-deps

$(PY):
	python3 -m venv $(VENV)

$(VENV)/.installed: pyproject.toml | $(PY)
	$(PY) -m pip install -q -e .
	touch $@

$(VENV)/.installed-dev: pyproject.toml | $(PY)
	$(PY) -m pip install -q -e '.[dev]'
	touch $@ $(VENV)/.installed

## Compile .po catalogs to .mo (never committed).
catalogs: $(VENV)/.installed
	@for dir in $(CATALOG_DIRS); do $(VENV)/bin/pybabel compile -d $$dir >/dev/null || exit 1; done

## Extract the core's strings and update its catalogs (after changing strings).
messages: $(VENV)/.installed
	$(VENV)/bin/pybabel extract -F babel.cfg -k lazy_gettext -k _l -o translations/messages.pot core
	$(VENV)/bin/pybabel update -N -i translations/messages.pot -d translations
	@for dir in plugins/*/ sections/*/; do \
	  if [ -d $$dir/translations ]; then \
	    $(VENV)/bin/pybabel extract -F babel.cfg -k lazy_gettext -k _l -o $$dir/translations/messages.pot $$dir && \
	    $(VENV)/bin/pybabel update -N -i $$dir/translations/messages.pot -d $$dir/translations || exit 1; \
	  fi; done

## Migrate the database and load the demo sections and cases (keeps data).
setup: $(VENV)/.installed catalogs
	$(FLASK) db upgrade
	$(FLASK) demo load

## Set up, then serve on http://fr.localhost:5000/ and http://be.localhost:5000/
## with one delivery worker next to gunicorn (both stop with Ctrl-C).
## Plain http on 127.0.0.1: session cookies without the Secure flag (a real
## deployment is behind TLS and keeps the default, Secure).
run: export ECRIRE_SECURE_COOKIES ?= 0
run: setup
	@echo "Portal: http://fr.localhost:5000/  http://be.localhost:5000/  http://ch.localhost:5000/  http://ca-fr.localhost:5000/"
	@echo "Admin:  http://fr.localhost:5000/admin/ (demo account and password: instance/demo-admin.txt)"
	@$(FLASK) deliveries run & worker=$$!; \
	trap 'kill $$worker 2>/dev/null; wait $$worker 2>/dev/null' EXIT INT TERM; \
	$(VENV)/bin/gunicorn -c gunicorn.conf.py wsgi:app

## Debian packages the tests use: a real PostgreSQL server and Chromium
## (driven by Playwright). Installed when missing and we are root; otherwise
## the tests that need them are skipped locally (and fail on CI).
SYSTEM_DEPS_MISSING = $(strip $(if $(wildcard /usr/lib/postgresql/*/bin/initdb),,postgresql) $(if $(wildcard /usr/bin/chromium),,chromium))
system-deps:
	@if [ -n "$(SYSTEM_DEPS_MISSING)" ]; then \
	  if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
	    echo "installing Debian packages for the tests: $(SYSTEM_DEPS_MISSING)"; \
	    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends $(SYSTEM_DEPS_MISSING) >/dev/null; \
	  else echo "not installed: $(SYSTEM_DEPS_MISSING); the tests needing them will be skipped"; fi; \
	fi

## axe-core for the accessibility tests (pinned in tests/js/package-lock.json;
## node_modules is not committed). Installed when missing, if npm is there.
AXE := tests/js/node_modules/axe-core/axe.min.js
$(AXE): tests/js/package.json tests/js/package-lock.json
	@if command -v npm >/dev/null; then \
	  npm ci --prefix tests/js --no-audit --no-fund && touch $@; \
	else echo "npm is not installed: the accessibility tests will be skipped"; fi

## Install with dev extras and run the whole test suite.
test: $(VENV)/.installed-dev catalogs system-deps $(AXE)
	$(PY) -m pytest $(PYTEST_ARGS)

## Portal vs a bare Flask app under the same gunicorn settings.
bench: $(VENV)/.installed-dev catalogs
	$(PY) bench/run.py
	$(PY) bench/export.py
	$(PY) bench/pdf_batch.py

clean:
	rm -rf $(VENV) instance
