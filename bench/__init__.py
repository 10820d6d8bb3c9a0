"""Benchmarks of the platform, run as `uv run python -m bench` (`make bench`); see `bench/__main__.py`.

    (a) reports   reports/s accepted by the education service vs a bare FastAPI endpoint
    (b) latency   approve → gateway shows it, p50/p99 at a steady 200 reports/s
    (c) summary   GET /api/v1/city/summary p99 with 10 thousand vs 1 million reports stored
    (d) rebuild   events/s folded by `python -m minsheng_gateway.projection.rebuild`

Every benchmark starts real processes (uvicorn, the Tansu broker) on throw-away PostgreSQL databases
(the test-suite's server, through its Unix socket when it has one; see `infra.ADMIN_URL`) and drops
them afterwards.  Figures go to the
terminal and to bench/results/*.json; nothing is asserted.
"""
