"""Validate a campaign catalog file against the document schema and the seed texts.

Usage: uv run python tools/check_catalog.py services/education/minsheng_education/catalog.yaml
Prints every problem found; exit code 1 if any.
"""
import pathlib
import re
import sys

import yaml

from minsheng.catalog.document import CampaignDoc

SEEDS = pathlib.Path(__file__).resolve().parents[1].parent / "shared" / "seeds"


def normalize(text: str) -> str:
    return re.sub(r"[\s*]", "", text)


def seed_text(seed: str) -> str:
    (path,) = SEEDS.glob(f"{seed}_*.txt")
    return normalize(path.read_text(encoding="utf-8"))


def main(path: str) -> int:
    doc = CampaignDoc.model_validate(yaml.safe_load(pathlib.Path(path).read_text(encoding="utf-8")))
    problems = []
    for task in doc.tasks():
        if task.title == "TODO":
            problems.append(f"task {task.number}: title is TODO")
    sources = []
    for ind in doc.all_indicators():
        sources.append((ind.code, ind.seed, ind.source))
        sources += [(f"{ind.code} milestone {m.year}", m.seed, m.source) for m in ind.milestones]
        sources += [(f"{ind.code} district {t.org_unit}", t.seed, t.source) for t in ind.district_targets]
    for label, seed, source in sources:
        if normalize(source) not in seed_text(seed):
            problems.append(f"{label}: source is not a verbatim part of seed {seed}: {source}")
    for p in problems:
        print("PROBLEM:", p)
    print(f"{doc.code}: {len(doc.items)} items, {len(doc.tasks())} tasks, "
          f"{len(doc.all_indicators())} indicators ({len(doc.indicators)} headline), {len(problems)} problems")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1]))
