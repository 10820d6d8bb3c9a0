"""佐证材料 of 督办单 answers (反馈): the kernel's evidence machinery (`minsheng.evidence`: upload to the pending area,
content checks, the store, the clean-up) with the gateway's own bucket and database, and what is the 督办单's own
here: which files an answer may name, attaching them with the step, and who may read them (who may see the order).

Calls block (database, object store, the upload guard's child): call them from sync routes."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Sequence

import sqlalchemy as sa
from sqlmodel import Session, select

from minsheng.auth.principal import Principal
from minsheng.evidence import service as evidence
from minsheng.evidence.models import EvidenceFile, EvidenceState
from minsheng.evidence.schemas import EvidencePublic, EvidenceRef
from minsheng.reporting.events import EvidenceDigests
from minsheng.reporting.submissions import raise_row_errors
from minsheng_gateway.supervision.models import SupervisionEvidence, SupervisionOrder

# What the files are saved with, in the kernel's messages ("未随督办反馈保存的文件…").
SAVED_WITH = "督办反馈"

_KNOWN_SQL = """
SELECT f.id, f.state, f.uploader_account, f.size_bytes, f.filename,
       array_remove(array_agg(DISTINCT s.order_id), NULL)
FROM evidence_file f LEFT JOIN supervision_evidence s ON s.evidence_id = f.id
WHERE f.id = ANY(:ids)
GROUP BY f.id
"""


def check(
    session: Session,
    policy: evidence.EvidencePolicy,
    principal: Principal,
    order_id: str,
    refs: Sequence[EvidenceRef],
) -> None:
    """Refuses (422, in Chinese) an answer naming files it may not: the kernel's rules, with "the same series"
    being the same order (an answer given again after 退回重办 may keep the files of the earlier one)."""
    if not refs:
        return
    ids = sorted({ref.id for ref in refs})
    known = {
        row[0]: evidence.KnownFile(*row[:5], subjects=tuple(row[5]))
        for row in session.connection().execute(sa.text(_KNOWN_SQL), {"ids": ids})
    }
    raise_row_errors(
        evidence.check_files(policy, principal, [evidence.Submitted(1, order_id, refs)], known), [], bulk=False
    )


def claim(session: Session, policy: evidence.EvidencePolicy, refs: Sequence[EvidenceRef]) -> EvidenceDigests | None:
    """Locks the files named until the step commits (the clean-up skips them meanwhile); refuses the answer when the
    clean-up took one since the check.  Returns what the step's event says of them."""
    if not refs:
        return None
    claimed = evidence.claim_files(session.connection(), [ref.id for ref in refs])
    if not evidence.usable(refs, claimed):
        raise evidence.gone(policy)
    return evidence.digests(refs, claimed)


def attach(session: Session, *, order_id: str, step_id: int, refs: Sequence[EvidenceRef], at: dt.datetime) -> None:
    """The attachment rows of the step, and its files `attached` for good: in the step's own transaction."""
    for position, ref in enumerate(refs):
        session.add(
            SupervisionEvidence(
                step_id=step_id, order_id=order_id, evidence_id=ref.id, caption=ref.caption, position=position
            )
        )
    evidence.mark_attached(session.connection(), [ref.id for ref in refs], at)


def files_of_steps(session: Session, order_id: str) -> dict[int, list[EvidencePublic]]:
    """The files of an order's answers, by step id, in the order they were named."""
    rows = session.exec(
        select(SupervisionEvidence, EvidenceFile)
        .join(EvidenceFile, EvidenceFile.id == SupervisionEvidence.evidence_id)
        .where(SupervisionEvidence.order_id == order_id)
        .order_by(SupervisionEvidence.step_id, SupervisionEvidence.position, SupervisionEvidence.id)
    )
    found: dict[int, list[EvidencePublic]] = {}
    for attachment, file in rows:
        found.setdefault(attachment.step_id, []).append(evidence.public(file, attachment.caption))
    return found


def readable_file(
    *, session: Session, principal: Principal, file_id: str, may_see: Callable[[Principal, SupervisionOrder], bool]
) -> EvidenceFile:
    """The file, if `principal` may read it: its uploader, or (once attached) whoever may see an order it is attached
    to (`may_see`).  Anyone else is answered 404, as for the order itself: an order one may not see is not shown
    to exist."""
    row = session.get(EvidenceFile, file_id)
    if row is None or row.state in (EvidenceState.uploading, EvidenceState.deleting):
        raise evidence.not_found(file_id)
    if row.uploader_account == principal.account_id and principal.account_id:
        return row
    if row.state is EvidenceState.pending:
        raise evidence.not_found(file_id)  # someone's upload, not saved with an answer yet: theirs alone
    orders = session.exec(
        select(SupervisionOrder)
        .join(SupervisionEvidence, SupervisionEvidence.order_id == SupervisionOrder.id)
        .where(SupervisionEvidence.evidence_id == file_id)
    )
    if any(may_see(principal, order) for order in orders):
        return row
    raise evidence.not_found(file_id)
