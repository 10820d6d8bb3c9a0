"""A bare app for tests/kernel/test_serve.py: it tells how the collector of the process serving it is set."""

import gc
from contextlib import asynccontextmanager

from fastapi import FastAPI

started: dict[str, object] = {}


@asynccontextmanager
async def lifespan(app: FastAPI):
    started["threshold"] = gc.get_threshold()  # as the app's start-up saw it
    yield


app = FastAPI(lifespan=lifespan)


@app.get("/gc")
def collector() -> dict:
    return {
        "threshold_at_startup": started["threshold"],
        "threshold": gc.get_threshold(),
        "frozen": gc.get_freeze_count(),
    }
