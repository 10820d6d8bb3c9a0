"""Sign-in, the caller's own account, account administration (city office) and the JWKS."""

from __future__ import annotations

from fastapi import APIRouter, Request, Response, status

from minsheng.auth.tokens import Unauthorized
from minsheng.db import SessionDep
from minsheng.pagination import Page, PageDep
from minsheng.params import AccountId, ApiKeyId
from minsheng_gateway.identity import service
from minsheng_gateway.identity.deps import SESSION_COOKIE, CityOfficeCaller, CurrentCaller, authenticate, now
from minsheng_gateway.identity.models import (
    Account,
    AccountContacts,
    AccountContactsPublic,
    AccountCreate,
    AccountPublic,
    ApiKeyCreate,
    ApiKeyIssued,
    ApiKeyPublic,
    AppKeyCreate,
    AppKeyIssued,
    AppKeyPublic,
    Credentials,
    HeadChoice,
    PasswordChange,
    PasswordReset,
    SignedIn,
    SigningRequirement,
)
from minsheng_gateway.identity.tokens import service_token_signer

auth_router = APIRouter(prefix="/api/v1/auth", tags=["登录 identity"])
accounts_router = APIRouter(prefix="/api/v1/accounts", tags=["账号管理 accounts"])
jwks_router = APIRouter(tags=["登录 identity"])


def _client(request: Request) -> str | None:
    return request.client.host if request.client else None


def _set_cookie(request: Request, response: Response, value: str) -> None:
    settings = request.app.state.settings
    response.set_cookie(
        SESSION_COOKIE,
        value,
        httponly=True,
        samesite="strict",
        path="/",
        secure=settings.cookie_secure or request.url.scheme == "https",
        max_age=int(settings.session_absolute_hours * 3600),
    )


@auth_router.post(
    "/login",
    response_model=SignedIn,
    summary="用户名和密码登录；会话保存在 HttpOnly Cookie 中",
    responses={
        401: {"description": "用户名或密码错误"},
        403: {"description": "账号已停用"},
        423: {"description": "连续输错密码，账号已锁定"},
    },
)
def login(request: Request, response: Response, session: SessionDep, credentials: Credentials):
    account, sign_in_session, token = service.sign_in(
        session=session,
        username=credentials.username,
        password=credentials.password,
        settings=request.app.state.settings,
        now=now(request),
        client_address=_client(request),
    )
    _set_cookie(request, response, token)
    return SignedIn(user=AccountPublic.model_validate(account), csrf_token=sign_in_session.csrf_token)


@auth_router.post(
    "/logout",
    status_code=status.HTTP_204_NO_CONTENT,
    summary="退出登录（会话在服务端作废）",
    responses={403: {"description": "缺少或不符的 CSRF 令牌：请刷新页面后重试"}},
)
def logout(request: Request, session: SessionDep) -> Response:
    caller = None
    try:
        caller = authenticate(request, session)
    except Unauthorized:
        pass  # an expired session: clearing the cookie is all there is to do
    if caller is not None and caller.session is not None:
        service.sign_out(session=session, sign_in_session=caller.session, now=now(request))
    response = Response(status_code=status.HTTP_204_NO_CONTENT)
    response.delete_cookie(SESSION_COOKIE, path="/", httponly=True, samesite="strict")
    return response


@auth_router.get("/me", response_model=SignedIn, summary="当前登录的账号（及写操作需带的 CSRF 令牌）")
def me(caller: CurrentCaller):
    return SignedIn(
        user=AccountPublic.model_validate(caller.account),
        csrf_token=caller.session.csrf_token if caller.session else "",
    )


@auth_router.get("/me/contacts", response_model=AccountContactsPublic, summary="我的联系方式与提醒设置")
def my_contacts(caller: CurrentCaller):
    return AccountContactsPublic.model_validate(caller.account, from_attributes=True)


@auth_router.put(
    "/me/contacts",
    response_model=AccountContactsPublic,
    summary="修改我的联系方式与提醒设置（邮箱、手机号、所在工作群、关闭的渠道）",
    responses={422: {"description": "邮箱或手机号格式不正确，或渠道无法关闭"}},
)
def set_my_contacts(session: SessionDep, caller: CurrentCaller, body: AccountContacts):
    account = session.get(Account, caller.account.id)
    return AccountContactsPublic.model_validate(
        service.set_contacts(session=session, account=account, contacts=body), from_attributes=True
    )


@auth_router.post("/password", status_code=status.HTTP_204_NO_CONTENT, summary="修改自己的密码（其他会话随之作废）")
def change_password(request: Request, session: SessionDep, caller: CurrentCaller, body: PasswordChange) -> None:
    service.change_password(
        session=session,
        account=caller.account,
        current_password=body.current_password,
        new_password=body.new_password,
        keep_session_id=caller.session.id if caller.session else None,
        now=now(request),
        min_password_length=request.app.state.settings.password_min_length,
    )


@accounts_router.get("", response_model=Page[AccountPublic], summary="账号列表（市民生办）")
def list_accounts(session: SessionDep, caller: CityOfficeCaller, page: PageDep):
    rows, count = service.list_accounts(session=session, limit=page.limit, offset=page.offset)
    return Page(data=[AccountPublic.model_validate(row) for row in rows], count=count)


@accounts_router.post(
    "", response_model=AccountPublic, status_code=status.HTTP_201_CREATED, summary="新建账号（市民生办）"
)
def create_account(request: Request, session: SessionDep, caller: CityOfficeCaller, body: AccountCreate):
    return service.create_account(
        session=session,
        data=body,
        created_by=caller.account.display_name,
        now=now(request),
        min_password_length=request.app.state.settings.password_min_length,
    )


@accounts_router.post(
    "/{account_id}/password",
    status_code=status.HTTP_204_NO_CONTENT,
    summary="重置账号密码（市民生办；该账号的会话全部作废，锁定解除）",
)
def reset_password(
    request: Request, session: SessionDep, caller: CityOfficeCaller, account_id: AccountId, body: PasswordReset
) -> None:
    service.reset_password(
        session=session,
        account_id=account_id,
        new_password=body.new_password,
        by=caller.account.username,
        now=now(request),
        min_password_length=request.app.state.settings.password_min_length,
    )


@accounts_router.post(
    "/{account_id}/disable",
    response_model=AccountPublic,
    summary="停用账号（市民生办；会话立即作废，API 密钥不再可用）",
)
def disable(request: Request, session: SessionDep, caller: CityOfficeCaller, account_id: AccountId):
    return service.set_disabled(
        session=session, account_id=account_id, disabled=True, by=caller.account, now=now(request)
    )


@accounts_router.put(
    "/{account_id}/head",
    response_model=AccountPublic,
    summary="设为或取消部门负责人（市民生办；仅部门账号；逾期升级提醒发给负责人）",
)
def set_head(session: SessionDep, caller: CityOfficeCaller, account_id: AccountId, body: HeadChoice):
    return service.set_head(session=session, account_id=account_id, head=body.head, by=caller.account)


@accounts_router.post("/{account_id}/enable", response_model=AccountPublic, summary="启用账号（市民生办）")
def enable(request: Request, session: SessionDep, caller: CityOfficeCaller, account_id: AccountId):
    return service.set_disabled(
        session=session, account_id=account_id, disabled=False, by=caller.account, now=now(request)
    )


@accounts_router.post(
    "/{account_id}/api-keys",
    response_model=ApiKeyIssued,
    status_code=status.HTTP_201_CREATED,
    summary="为对接系统账号签发 API 密钥（只显示这一次）",
)
def issue_api_key(
    request: Request, session: SessionDep, caller: CityOfficeCaller, account_id: AccountId, body: ApiKeyCreate
):
    api_key, key = service.issue_api_key(
        session=session, account_id=account_id, name=body.name, by=caller.account.username, now=now(request)
    )
    return ApiKeyIssued(id=api_key.id, name=api_key.name, key=key, created_at=api_key.created_at)


@accounts_router.get(
    "/{account_id}/api-keys", response_model=Page[ApiKeyPublic], summary="账号的 API 密钥（不含密钥本身）"
)
def list_api_keys(session: SessionDep, caller: CityOfficeCaller, account_id: AccountId):
    keys = service.list_api_keys(session=session, account_id=account_id)
    return Page(data=[ApiKeyPublic.model_validate(key) for key in keys], count=len(keys))


@accounts_router.delete(
    "/{account_id}/api-keys/{key_id}", status_code=status.HTTP_204_NO_CONTENT, summary="吊销 API 密钥"
)
def revoke_api_key(
    request: Request, session: SessionDep, caller: CityOfficeCaller, account_id: AccountId, key_id: ApiKeyId
) -> None:
    service.revoke_api_key(
        session=session, account_id=account_id, key_id=key_id, by=caller.account.username, now=now(request)
    )


@accounts_router.post(
    "/{account_id}/app-keys",
    response_model=AppKeyIssued,
    status_code=status.HTTP_201_CREATED,
    summary="为对接系统账号签发签名用的 AppKey 和 AppSecret（AppSecret 只显示这一次；签名方法见接入文档）",
)
def issue_app_key(
    request: Request, session: SessionDep, caller: CityOfficeCaller, account_id: AccountId, body: AppKeyCreate
):
    key = service.issue_app_key(
        session=session, account_id=account_id, name=body.name, by=caller.account.username, now=now(request)
    )
    return AppKeyIssued(id=key.id, name=key.name, app_key=key.app_key, app_secret=key.secret, created_at=key.created_at)


@accounts_router.get(
    "/{account_id}/app-keys", response_model=Page[AppKeyPublic], summary="账号的 AppKey（不含 AppSecret）"
)
def list_app_keys(session: SessionDep, caller: CityOfficeCaller, account_id: AccountId):
    keys = service.list_app_keys(session=session, account_id=account_id)
    return Page(data=[AppKeyPublic.model_validate(key) for key in keys], count=len(keys))


@accounts_router.delete(
    "/{account_id}/app-keys/{key_id}", status_code=status.HTTP_204_NO_CONTENT, summary="吊销 AppKey"
)
def revoke_app_key(
    request: Request, session: SessionDep, caller: CityOfficeCaller, account_id: AccountId, key_id: ApiKeyId
) -> None:
    service.revoke_app_key(
        session=session, account_id=account_id, key_id=key_id, by=caller.account.username, now=now(request)
    )


@accounts_router.put(
    "/{account_id}/signing",
    response_model=AccountPublic,
    summary="要求（或不再要求）对接系统账号的请求签名：要求后，仅带 API 密钥的请求被拒绝",
)
def require_signed_requests(
    session: SessionDep, caller: CityOfficeCaller, account_id: AccountId, body: SigningRequirement
):
    return service.require_signed_requests(
        session=session, account_id=account_id, required=body.required, by=caller.account.username
    )


@jwks_router.get("/.well-known/jwks.json", summary="网关签发服务令牌所用的公钥（JWKS）")
def jwks(request: Request) -> dict:
    signer = service_token_signer(request.app)
    return signer.jwks() if signer is not None else {"keys": []}


routers = [auth_router, accounts_router, jwks_router]
