# Barnet Blog: `make run` to try it, `make test` to check it.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
PORT ?= 8000
STAMP := $(VENV)/.installed

.PHONY: run test lint format check install clean bench audit deploy-check backup restore-drill

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)

$(STAMP): requirements.txt requirements-dev.txt | $(BIN)/python
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -r requirements-dev.txt
	touch $(STAMP)

install: $(STAMP)

# `make run` also starts the mail worker (it delivers the email queue) and stops it with the server.
run: $(STAMP)
	DJANGO_DEBUG=$${DJANGO_DEBUG:-true} $(BIN)/python manage.py migrate --noinput
	DJANGO_DEBUG=$${DJANGO_DEBUG:-true} $(BIN)/python manage.py load_demo --domain 127.0.0.1:$(PORT)
	export DJANGO_DEBUG=$${DJANGO_DEBUG:-true}; \
	$(BIN)/python manage.py mail_worker & worker=$$!; \
	trap 'kill $$worker 2>/dev/null; wait $$worker' EXIT INT TERM; \
	$(BIN)/python manage.py runserver 127.0.0.1:$(PORT)

test: $(STAMP)
	$(BIN)/python -m pytest

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

format: $(STAMP)
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

check: $(STAMP)
	$(BIN)/python manage.py check
	$(BIN)/python manage.py makemigrations --check --dry-run

# Supply chain: pip-audit on the pinned requirements; fails on a known vulnerability (.ci/audit.py).
audit: $(STAMP)
	$(BIN)/python .ci/audit.py

# Production configuration: Django's deployment checks with the variables a deploy sets.
deploy-check: $(STAMP)
	DJANGO_DEBUG=false DJANGO_SECURE=true DJANGO_ALLOWED_HOSTS=blog.example.org \
	DJANGO_CSRF_TRUSTED_ORIGINS=https://blog.example.org DJANGO_BEHIND_PROXY=true \
	DJANGO_SECRET_KEY="$$($(BIN)/python -c 'import secrets; print(secrets.token_urlsafe(50))')" \
	REDIS_URL=redis://127.0.0.1:6379/0 DJANGO_EMAIL_BACKEND=smtp \
	$(BIN)/python manage.py check --deploy --fail-level WARNING

# Serves the app with gunicorn on PostgreSQL (database barnetblog_bench) and measures its pages;
# see bench/README.md. Pass options with BENCH_ARGS="--seconds 5 --keep-db".
bench: $(STAMP)
	$(BIN)/python bench/run.py $(BENCH_ARGS)

clean:
	rm -rf $(VENV) staticfiles .pytest_cache
