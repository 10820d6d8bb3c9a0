"""What the entry form shows beside each indicator: the last approved value and the running total
for an org unit up to a period, from the gateway's official values and the kernel's progress model."""

from __future__ import annotations

from sqlmodel import Session

from minsheng.catalog import service as catalog_service
from minsheng.catalog.document import CAMPAIGN_CODES, IndicatorKind
from minsheng.catalog.snapshot import CatalogCache
from minsheng.errors import Unprocessable
from minsheng.orgunits import CITY_CODE
from minsheng.progress.assemble import progress_from_inputs, progress_inputs
from minsheng.progress.model import Thresholds
from minsheng.progress.periods import requested_period
from minsheng.progress.queries import load_facts
from minsheng_gateway.entry.schemas import EntryValue, EntryValues
from minsheng_gateway.projection.source import GatewaySource

# What `current_value` of the progress model is, per kind, as the form labels it.
TOTAL_LABELS = {
    IndicatorKind.cumulative: "自{first_year}年起累计",
    IndicatorKind.yearly: "本年累计",
    IndicatorKind.one_year: "目标年度累计",
    IndicatorKind.level: "最新水平",
}


def total_label(kind: IndicatorKind, *, first_year: int) -> str:
    return TOTAL_LABELS[kind].format(first_year=first_year)


def entry_values(
    *,
    session: Session,
    catalog: CatalogCache,
    org_unit: str,
    period: str,
    campaign: str | None,
    thresholds: Thresholds,
) -> EntryValues:
    unit = catalog_service.get_org_unit(session=session, code=org_unit)
    if campaign is not None and campaign not in CAMPAIGN_CODES:
        raise Unprocessable(f"行动「{campaign}」不存在，可选值：{'、'.join(CAMPAIGN_CODES)}", code="unknown_campaign")
    through = requested_period(period)
    facts = load_facts(session, catalog, campaign=campaign)
    codes = sorted(facts)
    source = GatewaySource(session)
    # The city's figures are rolled up from every org unit's values; a district's are its own.
    if org_unit == CITY_CODE:
        official = source.official(codes)
    else:
        official = source.official([], series=[(code, org_unit) for code in codes])
    rows = []
    for code in codes:
        indicator = facts[code]
        inputs = progress_inputs(indicator, org_unit, official.get(code, []), ())
        answer = progress_from_inputs(indicator, org_unit, inputs, through.end, thresholds, figures_only=True)
        # The latest approved figure ending by the period's end; of several ending the same day the finest.
        earlier = [o for o in inputs.observations if o.period.end <= through.end]
        last = max(earlier, key=lambda o: (o.period.end, o.period.start), default=None)
        rows.append(
            EntryValue(
                indicator=code,
                unit=indicator.unit,
                kind=indicator.kind,
                comparator=indicator.comparator,
                target_value=answer.target_value,
                target_basis=answer.target_basis,
                last_value=last.value if last else None,
                last_period=last.period.code if last else None,
                running_total=answer.current_value,
                running_total_label=total_label(indicator.kind, first_year=indicator.first_year),
                status=answer.status,
                status_label=answer.status_label,
            )
        )
    return EntryValues(org_unit=unit.code, org_unit_name=unit.name, period=through.code, data=rows, count=len(rows))


__all__ = ["TOTAL_LABELS", "entry_values", "total_label"]
