"""Follow-up marks (待核实, issue 30 point 3): the city office marks an approved value with a comment, whoever may
report that series answers, the city office closes the mark (已核实).  Each step is a line of the value's thread and
an event in the outbox, in one transaction.

A new revision does not close a mark by itself: the office decides whether the answer (a comment, or a corrected
revision submitted and approved as usual) settles it."""

from __future__ import annotations

import datetime as dt

from sqlmodel import Session, select

from minsheng.auth.principal import Principal, authorize_report, require_city_office
from minsheng.catalog.snapshot import CatalogCache
from minsheng.errors import NotFound, Unprocessable
from minsheng.messaging.outbox import add_event
from minsheng.quality.models import FOLLOW_UP_NOTE_LABELS, FollowUpNoteKind, QualityFollowUp, QualityFollowUpNote
from minsheng.quality.schemas import FollowUpNotePublic, FollowUpPublic
from minsheng.reporting.events import (
    FOLLOW_UP_ANSWERED,
    FOLLOW_UP_CLOSED,
    FOLLOW_UP_OPENED,
    FollowUpChanged,
    follow_up_event,
)
from minsheng.reporting.models import Report, ReportStatus
from minsheng.reporting.validation import ReportContext

EVENT_OF = {
    FollowUpNoteKind.opened: FOLLOW_UP_OPENED,
    FollowUpNoteKind.answered: FOLLOW_UP_ANSWERED,
    FollowUpNoteKind.closed: FOLLOW_UP_CLOSED,
}


def _now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


def _add_note(
    session: Session,
    catalog: CatalogCache,
    *,
    follow_up: QualityFollowUp,
    kind: FollowUpNoteKind,
    comment: str,
    actor: str,
    at: dt.datetime,
) -> None:
    """A line of the thread and its event (on the campaign's topic, as the report's events), in the caller's
    transaction."""
    session.add(QualityFollowUpNote(follow_up_id=follow_up.id, kind=kind, comment=comment, actor=actor, at=at))
    campaign = catalog.snapshot(session).indicators[follow_up.indicator_code].campaign_code
    topic, key, event = follow_up_event(
        EVENT_OF[kind],
        FollowUpChanged(
            campaign=campaign,
            follow_up=follow_up.id,
            report_id=follow_up.report_id,
            indicator=follow_up.indicator_code,
            org_unit=follow_up.org_unit_code,
            period=follow_up.period,
            comment=comment,
            actor=actor,
            occurred_at=at,
        ),
    )
    add_event(session, topic=topic, key=key, event=event)


def _public(session: Session, follow_up: QualityFollowUp) -> FollowUpPublic:
    notes = session.exec(
        select(QualityFollowUpNote)
        .where(QualityFollowUpNote.follow_up_id == follow_up.id)
        .order_by(QualityFollowUpNote.at, QualityFollowUpNote.id)
    )
    return FollowUpPublic(
        id=follow_up.id,
        report_id=follow_up.report_id,
        indicator=follow_up.indicator_code,
        org_unit=follow_up.org_unit_code,
        period=follow_up.period,
        open=follow_up.closed_at is None,
        state_label="待核实" if follow_up.closed_at is None else "已核实",
        opened_by=follow_up.opened_by,
        opened_at=follow_up.opened_at,
        closed_at=follow_up.closed_at,
        notes=[
            FollowUpNotePublic(
                kind=n.kind, kind_label=FOLLOW_UP_NOTE_LABELS[n.kind], comment=n.comment, actor=n.actor, at=n.at
            )
            for n in notes
        ],
    )


def open_follow_up(
    *, session: Session, catalog: CatalogCache, report_id: int, comment: str, principal: Principal
) -> FollowUpPublic:
    """Mark an approved value 待核实 (the city office's): refused for a value not approved, or one already marked."""
    require_city_office(principal, "标记待核实")
    report = session.get(Report, report_id, with_for_update=True)
    if report is None:
        raise NotFound(f"报告 {report_id} 不存在", code="report_not_found")
    if report.status is not ReportStatus.approved:
        raise Unprocessable(
            "只能标记已通过审核的数值：待审核的请在审核中退回，被退回的等待重新填报", code="follow_up_not_approved"
        )
    already = session.exec(
        select(QualityFollowUp.id).where(QualityFollowUp.report_id == report_id, QualityFollowUp.closed_at == None)  # noqa: E711
    ).first()
    if already is not None:
        raise Unprocessable(
            f"这个数值已标记待核实（标记 {already}），请在原标记下补充说明", code="follow_up_already_open"
        )
    at = _now()
    follow_up = QualityFollowUp(
        report_id=report.id,
        indicator_code=report.indicator_code,
        org_unit_code=report.org_unit_code,
        period=report.period,
        opened_by=principal.label,
        opened_at=at,
    )
    session.add(follow_up)
    session.flush()
    _add_note(
        session,
        catalog,
        follow_up=follow_up,
        kind=FollowUpNoteKind.opened,
        comment=comment,
        actor=principal.label,
        at=at,
    )
    session.commit()
    return _public(session, follow_up)


def get_follow_up(*, session: Session, follow_up_id: int, for_update: bool = False) -> QualityFollowUp:
    follow_up = session.get(QualityFollowUp, follow_up_id, with_for_update=for_update or None)
    if follow_up is None:
        raise NotFound(f"待核实标记 {follow_up_id} 不存在", code="follow_up_not_found")
    return follow_up


def _still_open(follow_up: QualityFollowUp) -> None:
    if follow_up.closed_at is not None:
        raise Unprocessable(f"待核实标记 {follow_up.id} 已核实关闭，不能再答复或关闭", code="follow_up_closed")


def answer_follow_up(
    *, session: Session, catalog: CatalogCache, follow_up_id: int, comment: str, principal: Principal, today: dt.date
) -> FollowUpPublic:
    """The reporter's answer: only someone who may report the series (the district for itself, the task's lead
    bureau, the city office)."""
    follow_up = get_follow_up(session=session, follow_up_id=follow_up_id, for_update=True)
    ctx = ReportContext(session, today, catalog.snapshot(session))
    indicator = ctx.indicator(follow_up.indicator_code)
    authorize_report(principal, ctx.scope(indicator), follow_up.org_unit_code)
    _still_open(follow_up)
    _add_note(
        session,
        catalog,
        follow_up=follow_up,
        kind=FollowUpNoteKind.answered,
        comment=comment,
        actor=principal.label,
        at=_now(),
    )
    session.commit()
    return _public(session, follow_up)


def close_follow_up(
    *, session: Session, catalog: CatalogCache, follow_up_id: int, comment: str, principal: Principal
) -> FollowUpPublic:
    """已核实: the city office closes the mark, saying what it concluded."""
    require_city_office(principal, "关闭待核实标记")
    follow_up = get_follow_up(session=session, follow_up_id=follow_up_id, for_update=True)
    _still_open(follow_up)
    at = _now()
    follow_up.closed_at = at
    session.add(follow_up)
    _add_note(
        session,
        catalog,
        follow_up=follow_up,
        kind=FollowUpNoteKind.closed,
        comment=comment,
        actor=principal.label,
        at=at,
    )
    session.commit()
    return _public(session, follow_up)


def follow_ups_of_series(*, session: Session, report: Report) -> list[FollowUpPublic]:
    """Every mark on any revision of the report's series, with its thread (the value's history shows them)."""
    marks = session.exec(
        select(QualityFollowUp)
        .where(
            QualityFollowUp.indicator_code == report.indicator_code,
            QualityFollowUp.org_unit_code == report.org_unit_code,
            QualityFollowUp.period == report.period,
        )
        .order_by(QualityFollowUp.opened_at, QualityFollowUp.id)
    )
    return [_public(session, m) for m in marks]


def list_follow_ups(*, session: Session, open_only: bool = False) -> list[FollowUpPublic]:
    query = select(QualityFollowUp).order_by(QualityFollowUp.opened_at.desc(), QualityFollowUp.id.desc())
    if open_only:
        query = query.where(QualityFollowUp.closed_at == None)  # noqa: E711
    return [_public(session, m) for m in session.exec(query)]
