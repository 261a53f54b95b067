# Two commands: `make run` (quick start) and `make test`. Everything they need is installed here.
SHELL := /bin/bash
PY := .venv/bin/python
PIP := .venv/bin/pip
APPS := suppliers traceability inspection nonconformance capa monitoring compliance documents batchrecords changes audits packs api
SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)
# Debian packages: WeasyPrint's Pango, a CJK font for Chinese PDFs, gettext, poppler (PDF checks), Chromium (browser test), curl (prod-smoke).
DEB_PKGS := libpango-1.0-0 libpangoft2-1.0-0 libharfbuzz-subset0 fonts-wqy-microhei gettext poppler-utils chromium curl

.PHONY: run test install system-deps venv assets messages compilemessages worker beat lint check-deploy ci-quickstart prod-smoke bench clean

run: install
	DEBUG=1 $(PY) manage.py migrate --noinput
	DEBUG=1 $(PY) manage.py seed_demo
	@echo "Serving http://127.0.0.1:8000  (background jobs run in-process; Ctrl-C stops both)"
	@trap 'kill 0' EXIT; DEBUG=1 $(PY) manage.py run_jobs --loop & DEBUG=1 $(PY) manage.py runserver 127.0.0.1:8000

test: install
	$(PY) -m pytest

install: system-deps venv assets compilemessages

system-deps:
	@missing=""; for p in $(DEB_PKGS); do dpkg -s $$p >/dev/null 2>&1 || missing="$$missing $$p"; done; \
	command -v npm >/dev/null 2>&1 || missing="$$missing nodejs npm"; \
	if [ -n "$$missing" ]; then echo "Installing system packages:$$missing"; \
	  $(SUDO) apt-get update -qq && DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -qq $$missing >/dev/null; fi

venv: .venv/.installed

.venv/.installed: requirements.txt requirements-dev.txt
	@[ -x $(PY) ] || python3 -m venv .venv
	$(PIP) install -q --upgrade pip
	$(PIP) install -q -r requirements-dev.txt
	touch $@

assets: static/vendor/.installed

# The file list lives in scripts/vendor-assets (the Dockerfile uses it too, through scripts/build-static).
static/vendor/.installed: package.json scripts/vendor-assets
	npm install --no-audit --no-fund --loglevel=error
	scripts/vendor-assets static/vendor
	touch $@

# Extract strings into each app's catalogue (kernel and shared templates into locale/).
messages: venv
	$(PY) manage.py makemessages -l zh_Hans --no-obsolete --no-location $(foreach a,$(APPS),--ignore=$(a)/*) --ignore=.venv/* --ignore=node_modules/* --ignore=static/vendor/* --ignore=tests/* --ignore=bench/*
	for a in $(APPS); do mkdir -p $$a/locale && (cd $$a && ../$(PY) ../manage.py makemessages -l zh_Hans --no-obsolete --no-location --ignore=tests/*) || exit 1; done

compilemessages: venv
	$(PY) manage.py compilemessages -v0 --ignore=.venv --ignore=node_modules

worker: install
	.venv/bin/celery -A qms worker -l info

beat: install
	.venv/bin/celery -A qms beat -l info

lint: venv
	.venv/bin/ruff check .
	.venv/bin/ruff format --check .
	.venv/bin/lint-imports

check-deploy: venv
	DEBUG=0 SECRET_KEY=ci-$$(head -c 64 /dev/urandom | base64 | tr -d '/+=') ALLOWED_HOSTS=qms.example.com \
	  AUDIT_ANCHOR_KEY=ci-$$(head -c 32 /dev/urandom | base64 | tr -d '/+=') \
	  $(PY) manage.py check --deploy --fail-level WARNING

# The quick-start path on SQLite: migrate, seed, every top-level page per demo role.
ci-quickstart: install
	rm -f /tmp/qms-quickstart.sqlite3
	env -u DATABASE_URL -u REDIS_URL DEBUG=1 DATABASE_URL=sqlite:////tmp/qms-quickstart.sqlite3 $(PY) manage.py migrate --noinput -v0
	env -u REDIS_URL DEBUG=1 DATABASE_URL=sqlite:////tmp/qms-quickstart.sqlite3 $(PY) manage.py seed_demo >/dev/null
	env -u REDIS_URL DEBUG=1 DATABASE_URL=sqlite:////tmp/qms-quickstart.sqlite3 $(PY) manage.py seed_demo >/dev/null
	env -u REDIS_URL DEBUG=1 DATABASE_URL=sqlite:////tmp/qms-quickstart.sqlite3 $(PY) manage.py smoke_pages

# Production build and serve: the Dockerfile's build step with DEBUG=0, gunicorn + whitenoise, login page
# and static files must answer 200 (needs DATABASE_URL; see scripts/prod-smoke).
prod-smoke: install
	scripts/prod-smoke

bench: install
	$(PY) -m bench

clean:
	rm -rf .venv node_modules static/vendor staticfiles db.sqlite3
