from typing import Annotated

from fastapi import Depends, Header, Request

from minsheng.auth.principal import Principal
from minsheng.auth.tokens import ServiceTokenVerifier, Unauthorized
from minsheng.openapi import needs_principal


def token_verifier(app) -> ServiceTokenVerifier:  # noqa: ANN001 - a FastAPI app
    """The app's verifier (`app.state.token_verifier`), built from its settings on first use."""
    verifier = getattr(app.state, "token_verifier", None)
    if verifier is None:
        settings = app.state.settings
        verifier = ServiceTokenVerifier.from_setting(audience=app.state.process, public_key=settings.jwt_public_key)
        app.state.token_verifier = verifier
    return verifier


@needs_principal
async def current_principal(
    request: Request,
    authorization: Annotated[str | None, Header(description="Bearer <网关签发的令牌>")] = None,
) -> Principal:
    # Async: a token verified before costs a dictionary look-up, no thread hand-off.
    if not authorization or not authorization.lower().startswith("bearer "):
        raise Unauthorized("需要登录：请通过网关登录后访问（请求头 Authorization: Bearer <网关签发的令牌>）")
    return token_verifier(request.app).principal(authorization[7:].strip())


PrincipalDep = Annotated[Principal, Depends(current_principal)]
