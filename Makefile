# Lotse: two commands on a fresh machine.
#   make run   installs everything and starts Lotse on http://127.0.0.1:8000
#   make test  installs everything and runs the checks and tests (what CI runs)

SHELL := /bin/bash
# Concrete interpreters first: pyenv's shims exist for every installed version but only run
# the ones selected as global.
PY311 ?= $(firstword $(wildcard $(HOME)/.pyenv/versions/3.11.*/bin/python3.11) $(shell command -v python3.11))
PY310 ?= $(firstword $(wildcard $(HOME)/.pyenv/versions/3.10.*/bin/python3.10) $(shell command -v python3.10))
PIP_QUIET := --quiet --disable-pip-version-check --no-input
APT_PACKAGES := chromium fonts-noto-core espeak-ng postgresql poppler-utils redis-server

.PHONY: install install-translate install-train run test check lint typecheck kb-check system-deps lock clean

install: .venv/.installed .venv-rasa/.installed

.venv/.installed: requirements/app.lock pyproject.toml
	@test -n "$(PY311)" || { echo "Python 3.11 not found (set PY311=/path/to/python3.11)"; exit 1; }
	$(PY311) -m venv .venv
	.venv/bin/pip install $(PIP_QUIET) --no-deps -r requirements/app.lock 2> >(grep -v 'is ignored' >&2)
	.venv/bin/pip install $(PIP_QUIET) --no-deps -e . 2> >(grep -v 'is ignored' >&2)
	touch $@

# Optional machine translation for chats with case managers (argostranslate, about 165 MB);
# `make test` needs it, `make run` and `make install` stay lean.
install-translate: .venv/.translate-installed

.venv/.translate-installed: .venv/.installed requirements/translate.lock
	.venv/bin/pip install $(PIP_QUIET) --no-deps -r requirements/translate.lock 2> >(grep -v 'is ignored' >&2)
	touch $@

# Optional torch, only to retrain the question encoders and the page reader (lotse bench
# omos-train-encoder, omos-train-retrieval, omos-train-sequence); Lotse and its tests run them in numpy.
install-train: .venv/.train-installed

.venv/.train-installed: .venv/.installed requirements/train.lock
	.venv/bin/pip install $(PIP_QUIET) --no-deps -r requirements/train.lock 2> >(grep -v 'is ignored' >&2)
	touch $@

.venv-rasa/.installed: requirements/rasa.lock
	@test -n "$(PY310)" || { echo "Python 3.10 not found (Rasa 3.6 needs it; set PY310=/path/to/python3.10)"; exit 1; }
	$(PY310) -m venv .venv-rasa
	.venv-rasa/bin/pip install $(PIP_QUIET) --no-deps -r requirements/rasa.lock 2> >(grep -v -e 'is ignored' -e DEPRECATION -e '^ ' >&2)
	touch $@

# Debian packages for the browser tests and screenshots (headless Chromium, fonts for all scripts),
# espeak-ng, the offline speech synthesiser behind the kiosk's "read aloud", and PostgreSQL, which the
# database tests also run against (scripts/with-postgres.sh starts a throwaway cluster; no service is used).
# poppler-utils: pdftoppm/pdftotext, with which the tests open the monthly PDF report.
# redis-server: tests/e2e/test_two_hubs.py starts a throwaway one (free port, no service) for two hub instances.
system-deps:
	@if command -v chromium >/dev/null && command -v pdftoppm >/dev/null && command -v espeak-ng >/dev/null && dpkg -s fonts-noto-core >/dev/null 2>&1 \
		&& ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 && command -v redis-server >/dev/null; then :; \
	else apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $(APT_PACKAGES); fi

run: install
	.venv/bin/lotse serve

kb-check: install
	.venv/bin/lotse kb check

lint: install
	.venv/bin/ruff check .

typecheck: install
	.venv/bin/mypy lotse server actions knowledge bot

test: install install-translate system-deps
	.venv/bin/lotse kb check
	.venv/bin/ruff check .
	.venv/bin/mypy lotse server actions knowledge bot
	bash scripts/with-postgres.sh .venv/bin/pytest -q

# Re-resolve the application lock file from pyproject.toml (after changing dependencies).
lock:
	rm -rf /tmp/lotse-lock && $(PY311) -m venv /tmp/lotse-lock
	/tmp/lotse-lock/bin/pip install $(PIP_QUIET) '.[dev]'
	/tmp/lotse-lock/bin/pip freeze --exclude-editable | grep -v '^lotse' > requirements/app.lock

clean:
	rm -rf .venv .venv-rasa var .rasa
