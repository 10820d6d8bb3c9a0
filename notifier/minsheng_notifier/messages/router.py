"""消息中心 (the person's 站内消息), what was sent to me, and the 催办记录 of a report or a 督办单.
Reached through the gateway (`/api/v1/notifier/…`), which signs a token for the notifier."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Request

from minsheng.auth.deps import PrincipalDep
from minsheng.db import SessionDep
from minsheng.errors import Forbidden, Unprocessable
from minsheng.pagination import Page, PageDep
from minsheng_notifier.messages import service
from minsheng_notifier.messages.models import (
    MessagePage,
    MessagePublic,
    ReminderLog,
    UnreadCount,
    order_ref,
    report_ref,
)
from minsheng_notifier.sender import now_of

router = APIRouter(prefix="/api/v1", tags=["消息中心 messages"])
# Who may read a 催办记录: those who chase (市民生办, 市领导, 牵头部门), and a district for its own reports.
CHASERS = frozenset({"city_office", "leader", "bureau"})


@router.get("/messages", response_model=MessagePage, summary="我的站内消息（新的在前）及未读数")
def my_messages(
    session: SessionDep,
    principal: PrincipalDep,
    page: PageDep,
    unread: Annotated[bool, Query(description="只看未读")] = False,
):
    rows, count = service.inbox(
        session=session, account_id=principal.account_id, unread_only=unread, limit=page.limit, offset=page.offset
    )
    return MessagePage(
        data=[service.public(m) for m in rows],
        count=count,
        unread=service.unread(session=session, account_id=principal.account_id),
    )


@router.get("/messages/unread", response_model=UnreadCount, summary="未读站内消息数（页头的铃铛）")
def my_unread(session: SessionDep, principal: PrincipalDep):
    return UnreadCount(unread=service.unread(session=session, account_id=principal.account_id))


@router.post("/messages/{message_id}/read", response_model=UnreadCount, summary="标为已读")
def read_one(request: Request, session: SessionDep, principal: PrincipalDep, message_id: int):
    service.mark_read(session=session, account_id=principal.account_id, message_id=message_id, now=now_of(request.app))
    return UnreadCount(unread=service.unread(session=session, account_id=principal.account_id))


@router.post("/messages/read-all", response_model=UnreadCount, summary="全部标为已读")
def read_all(request: Request, session: SessionDep, principal: PrincipalDep):
    service.mark_read(session=session, account_id=principal.account_id, message_id=None, now=now_of(request.app))
    return UnreadCount(unread=0)


@router.get(
    "/messages/sent",
    response_model=Page[MessagePublic],
    summary="发给我的全部提醒（各渠道：站内消息、邮件、短信、工作群），含送达状态",
)
def sent_to_me(session: SessionDep, principal: PrincipalDep, page: PageDep):
    rows, count = service.sent_to(
        session=session, account_id=principal.account_id, limit=page.limit, offset=page.offset
    )
    return Page[MessagePublic](data=[service.public(m) for m in rows], count=count)


@router.get(
    "/reminders",
    response_model=ReminderLog,
    summary="催办记录：某项填报（指标×单位×期间）或某督办单，提醒了谁、何时、经哪个渠道、是否送达",
)
def reminders(
    session: SessionDep,
    principal: PrincipalDep,
    indicator: Annotated[str | None, Query(max_length=40, description="指标编号")] = None,
    org_unit: Annotated[str | None, Query(max_length=6, description="单位代码")] = None,
    period: Annotated[str | None, Query(max_length=10, description="期间，例如 2026-11")] = None,
    order: Annotated[str | None, Query(max_length=40, description="督办单号，例如 DB-2026-0007")] = None,
):
    if order:
        ref = order_ref(order)
    elif indicator and org_unit and period:
        ref = report_ref(indicator, org_unit, period)
    else:
        raise Unprocessable("请指定督办单号，或指标、单位和期间", code="reminder_subject_missing")
    role = principal.role.value
    if role not in CHASERS and not (role == "district" and not order and org_unit == principal.org_unit):
        raise Forbidden(
            "只有市民生办、市领导和牵头部门可以查看催办记录（区县可查看本单位的）", code="reminders_forbidden"
        )
    return ReminderLog(ref=ref, data=service.reminder_log(session=session, ref=ref))
