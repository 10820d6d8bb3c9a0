"""The entry point of every server process: `python -m minsheng.serve <module>:app [uvicorn's options]`.

It runs uvicorn exactly as `python -m uvicorn` would, with every option uvicorn takes, and sets what
belongs to the process rather than to an app, once: the garbage collector's tuning.  Apps built in a
process that is not a server (the tests' clients, the rebuild tool, a benchmark's seeding) leave the
collector as Python sets it.
"""

from __future__ import annotations

import gc
import sys
from collections.abc import Callable, Sequence
from contextlib import asynccontextmanager

import uvicorn
from starlette.types import ASGIApp
from uvicorn.importer import import_from_string


def tune_gc() -> None:
    """Once the app has started: what start-up built (modules, migrations, the app's objects) lives as
    long as the process, so keep it out of the collector's full passes, and collect less often.  The
    collector's pauses showed in the p99 of requests (docs/performance.md, "Smaller wins")."""
    gc.freeze()
    gc.set_threshold(10_000, 20, 20)


def after_startup(app: ASGIApp, then: Callable[[], None]) -> None:
    """Run `then` once `app`'s lifespan start-up has finished, before the first request is served."""
    router = app.router  # a Starlette or FastAPI app
    started = router.lifespan_context

    @asynccontextmanager
    async def lifespan(app_: ASGIApp):
        async with started(app_) as state:
            then()
            yield state

    router.lifespan_context = lifespan


def main(argv: Sequence[str] | None = None) -> None:
    args = list(sys.argv[1:] if argv is None else argv)
    with uvicorn.main.make_context("python -m minsheng.serve", args) as context:
        # uvicorn imports the app again by the same name and finds this module's object, tuned.
        after_startup(import_from_string(context.params["app"]), tune_gc)
        uvicorn.main.invoke(context)


if __name__ == "__main__":
    main()
