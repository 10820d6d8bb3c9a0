from typing import Annotated

from fastapi import Depends, Header

from minsheng.auth.principal import Principal
from minsheng.auth.service import Unauthorized, principal_for
from minsheng.db import SessionDep


def current_principal(
    session: SessionDep,
    authorization: Annotated[str | None, Header(description="Bearer <令牌>")] = None,
) -> Principal:
    if not authorization or not authorization.lower().startswith("bearer "):
        raise Unauthorized("需要登录：请在请求头加上 Authorization: Bearer <令牌>", code="missing_token")
    return principal_for(session=session, token=authorization[7:].strip())


PrincipalDep = Annotated[Principal, Depends(current_principal)]
