"""Check the campaign catalogs against the plan's source documents (the seed texts).

Usage: python3 -m uv run python tools/check_catalog.py --seeds ../shared/seeds [catalog.yaml ...]

Without catalog files it checks all five campaigns' `catalog.yaml`.  Each file must validate against the
document schema, and every sentence it cites must be a verbatim part of the seed it names: each
indicator's, milestone's and district target's `source`, and each task's text and lead departments
(seed 003).  Prints every problem found; exit code 1 if any.

The test suite checks what needs no seed (the catalogs' own consistency, tests/kernel/test_catalog_documents.py);
this tool is for whoever edits a catalog with the source documents at hand.
"""

from __future__ import annotations

import argparse
import re
import sys
from pathlib import Path

from minsheng.catalog.document import CAMPAIGN_CODES, CampaignDoc
from minsheng.catalog.loader import read_catalog_file

ROOT = Path(__file__).resolve().parents[1]
# The one spelling the catalog normalizes (task 80 names the bureau by its long form).
DEPARTMENT_ALIASES = {"市人力资源和社会保障局": "市人力资源社会保障局"}
# A task line of seed 003: "2、<text>(牵头部门:<departments>)".
TASK_LINE = re.compile(r"^\s*(\d{1,3})、(.+?)[\(〔]牵头部门[:：](.+)[\)〕]\s*$", re.MULTILINE)


def normalize(text: str) -> str:
    """Whitespace and markdown emphasis differ between the seeds and the catalogs; words do not."""
    return re.sub(r"[\s*]", "", text)


class Seeds:
    """The seed texts in a folder, by their number ("000", "003" …): files named `<number>_<digest>.txt`."""

    def __init__(self, folder: Path):
        self.folder = folder
        self._texts: dict[str, str] = {}

    def text(self, number: str) -> str:
        if number not in self._texts:
            (path,) = self.folder.glob(f"{number}_*.txt")
            self._texts[number] = path.read_text(encoding="utf-8")
        return self._texts[number]

    def contains(self, number: str, sentence: str) -> bool:
        return normalize(sentence) in normalize(self.text(number))


def source_problems(doc: CampaignDoc, seeds: Seeds) -> list[str]:
    """Every cited sentence that is not a verbatim part of the seed it names."""
    sources = []
    for indicator in doc.all_indicators():
        sources.append((indicator.code, indicator.seed, indicator.source))
        sources += [(f"{indicator.code} milestone {m.period_code}", m.seed, m.source) for m in indicator.milestones]
        sources += [(f"{indicator.code} district {t.org_unit}", t.seed, t.source) for t in indicator.district_targets]
    return [
        f"{label}: source is not a verbatim part of seed {seed}: {source}"
        for label, seed, source in sources
        if not seeds.contains(seed, source)
    ]


def task_problems(doc: CampaignDoc, seeds: Seeds) -> list[str]:
    """Each task's text and lead departments as seed 003 states them."""
    in_seed = {int(m.group(1)): (m.group(2).strip(), m.group(3)) for m in TASK_LINE.finditer(seeds.text("003"))}
    problems = []
    for task in doc.tasks():
        if task.number not in in_seed:
            problems.append(f"task {task.number}: not found in seed 003")
            continue
        text, departments = in_seed[task.number]
        if task.text != text:
            problems.append(f"task {task.number}: text differs from seed 003")
        if list(task.lead_departments) != [DEPARTMENT_ALIASES.get(d, d) for d in departments.split("、")]:
            problems.append(f"task {task.number}: lead departments differ from seed 003 ({departments})")
        if task.title == "TODO":
            problems.append(f"task {task.number}: title is TODO")
    return problems


def check(path: Path, seeds: Seeds) -> list[str]:
    try:
        doc = read_catalog_file(path)
    except ValueError as error:  # pydantic's ValidationError: the file breaks the document schema
        print(f"{path}: does not validate")
        return [f"{path}: {error}"]
    problems = task_problems(doc, seeds) + source_problems(doc, seeds)
    print(
        f"{doc.code}: {len(doc.items)} items, {len(doc.tasks())} tasks, {len(doc.all_indicators())} indicators "
        f"({len(doc.indicators)} headline), {len(problems)} problems"
    )
    return problems


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--seeds", type=Path, required=True, help="the folder of seed texts (000_….txt …)")
    parser.add_argument(
        "catalogs", nargs="*", type=Path, help="catalog files (default: the five campaigns' catalog.yaml)"
    )
    args = parser.parse_args(argv)
    if not args.seeds.is_dir():
        parser.error(f"no folder of seeds at {args.seeds}")
    seeds = Seeds(args.seeds)
    catalogs = args.catalogs or [
        ROOT / "services" / code / f"minsheng_{code}" / "catalog.yaml" for code in CAMPAIGN_CODES
    ]
    problems = [problem for path in catalogs for problem in check(path, seeds)]
    for problem in problems:
        print("PROBLEM:", problem)
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
