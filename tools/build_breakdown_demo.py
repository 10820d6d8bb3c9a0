"""Write the demonstration 任务分解表 (libs/minsheng/minsheng/demo/breakdown_demo.xlsx) from breakdown_demo.yaml.

Usage: python3 -m uv run python tools/build_breakdown_demo.py

The workbook is the platform's template (departments from the five campaigns' catalog.yaml, districts from
minsheng.orgunits) filled with the YAML's plan and tasks; it is dry-run before it is written, and nothing is
written if the dry run finds an error.  Commit the YAML and the workbook together.
"""

from __future__ import annotations

import sys
from pathlib import Path

from minsheng.catalog.breakdown import (
    CampaignHeading,
    KnownIndicators,
    campaign_counts,
    departments_of,
    parse_breakdown,
)
from minsheng.catalog.document import CAMPAIGN_CODES
from minsheng.catalog.loader import read_catalog_file
from minsheng.demo.breakdown import DEMO_WORKBOOK, demo_workbook
from minsheng.orgunits import CITY_CODE, ORG_UNITS

ROOT = Path(__file__).resolve().parents[1]


def main() -> int:
    docs = [read_catalog_file(ROOT / "services" / c / f"minsheng_{c}" / "catalog.yaml") for c in CAMPAIGN_CODES]
    context = {
        "departments": departments_of(docs),
        "districts": [unit for unit in ORG_UNITS if unit.code != CITY_CODE],
        "campaigns": [CampaignHeading.of(doc) for doc in docs],
    }
    content = demo_workbook(**context)
    known = KnownIndicators.of(docs[0].plan, (indicator.code for doc in docs for indicator in doc.all_indicators()))
    result = parse_breakdown(content, known_indicators=known, **context)
    for problem in result.errors:
        print(problem.message, file=sys.stderr)
    if not result.ok:
        print("the demonstration workbook has errors: nothing written", file=sys.stderr)
        return 1
    DEMO_WORKBOOK.write_bytes(content)
    print(f"{DEMO_WORKBOOK.relative_to(ROOT)}: {result.plan.name}, {result.rows} rows")
    for counts in campaign_counts(result):
        print(
            f"  {counts.code}: {counts.tasks} tasks, {counts.indicators} indicators, "
            f"{counts.district_targets} district targets, {counts.annual_targets} annual targets"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
