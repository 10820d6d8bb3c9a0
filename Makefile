# The two commands: `make run` (the platform on this machine) and `make test` (the whole suite).
# Both install what is missing: uv (pinned) into the user's Python, then the locked workspace.
# Bytecode is compiled at install time: where PYTHONDONTWRITEBYTECODE is set (as on our machines)
# every process would otherwise compile SQLAlchemy, pydantic and FastAPI from source at each start,
# about 2.5 s of CPU per process (make run starts twelve; the suite many more).

UV_VERSION := 0.13.9
PYTHON ?= python3
UV := $(PYTHON) -m uv

.PHONY: run test bootstrap bench

bootstrap:
	@$(UV) --version 2>/dev/null | grep -q "$(UV_VERSION)" || $(PYTHON) -m pip install --quiet "uv==$(UV_VERSION)"
	@$(UV) sync --locked --quiet --compile-bytecode
	@$(UV) run --locked --quiet python -m compileall -q libs services gateway deploy bench tests >/dev/null

run: bootstrap
	$(UV) run python deploy/run_local.py

test: bootstrap
	$(UV) run pytest

bench: bootstrap
	$(UV) run python -m bench
