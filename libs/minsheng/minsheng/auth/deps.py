import asyncio
from typing import Annotated

from fastapi import Depends, Header, Request

from minsheng.auth.principal import Principal
from minsheng.auth.service import Unauthorized, cached_principal, principal_for


async def current_principal(
    request: Request,
    authorization: Annotated[str | None, Header(description="Bearer <令牌>")] = None,
) -> Principal:
    # Async, so a recently verified token costs no thread hand-off; only a lookup goes to a thread.
    if not authorization or not authorization.lower().startswith("bearer "):
        raise Unauthorized("需要登录：请在请求头加上 Authorization: Bearer <令牌>", code="missing_token")
    token = authorization[7:].strip()
    database = request.app.state.database
    principal = cached_principal(database.engine, token)
    if principal is None:
        principal = await _shared_look_up(database, token)
    return principal


# Look-ups in flight, by (engine, token): when a busy token's cache entry expires, the requests that
# arrive meanwhile wait for the one look-up instead of each sending its own to a thread.
_in_flight: dict[tuple[int, str], asyncio.Future[Principal]] = {}


async def _shared_look_up(database, token: str) -> Principal:  # noqa: ANN001 - a minsheng.db.Database
    key = (id(database.engine), token)
    pending = _in_flight.get(key)
    if pending is None or pending.get_loop() is not asyncio.get_running_loop():
        pending = asyncio.ensure_future(asyncio.to_thread(_look_up, database, token))
        _in_flight[key] = pending
        pending.add_done_callback(lambda done: _in_flight.pop(key, None) if _in_flight.get(key) is done else None)
    # shield: one waiter cancelled (its client went away) must not cancel the others' look-up
    return await asyncio.shield(pending)


def _look_up(database, token: str) -> Principal:  # noqa: ANN001 - a minsheng.db.Database
    with database.session() as session:
        return principal_for(session=session, token=token)


PrincipalDep = Annotated[Principal, Depends(current_principal)]
