"""Extract the 113 tasks of seed 003 into per-campaign catalog skeletons.

One-off tool used to bootstrap `services/*/.../catalog.yaml`: the verbatim task
texts and lead departments come from the seed, never retyped by hand.  Indicators
and short titles are added by hand afterwards and reviewed like code.
Usage: python tools/extract_tasks.py ../shared/seeds/003_ac670e75b15da742.txt
"""

import json
import re
import sys

CAMPAIGN_HEADINGS = {
    "一": "education",
    "二": "health",
    "三": "eldercare",
    "四": "employment",
    "五": "livability",
}
CN_NUM = "一二三四五六七八九十"


def cn_to_int(s: str) -> int:
    if s.startswith("三十"):
        return 30 + (CN_NUM.index(s[2]) + 1 if len(s) > 2 else 0)
    if s.startswith("二十"):
        return 20 + (CN_NUM.index(s[2]) + 1 if len(s) > 2 else 0)
    if s.startswith("十"):
        return 10 + (CN_NUM.index(s[1]) + 1 if len(s) > 1 else 0)
    return CN_NUM.index(s) + 1


def parse(text: str):
    campaigns, campaign, item = [], None, None
    for raw in text.splitlines():
        line = raw.strip()
        m = re.match(r"^([一二三四五])、(实施.+三年攻坚行动)$", line)
        if m:
            campaign = {"code": CAMPAIGN_HEADINGS[m.group(1)], "name": m.group(2), "items": []}
            campaigns.append(campaign)
            continue
        m = re.match(r"^\(([一二三四五六七八九十]+)\)(.+)$", line)
        if m and campaign:
            item = {"number": cn_to_int(m.group(1)), "title": m.group(2), "tasks": []}
            campaign["items"].append(item)
            continue
        m = re.match(r"^(\d{1,3})、(.+)$", line)
        if m and item:
            body = m.group(2)
            lead = re.search(r"[\(〔]牵头部门[:：](.+)[\)〕]$", body)
            text_only = body[: lead.start()] if lead else body
            depts = [d.strip() for d in lead.group(1).split("、")] if lead else []
            item["tasks"].append({"number": int(m.group(1)), "text": text_only.strip(), "lead_departments": depts})
    return campaigns


if __name__ == "__main__":
    with open(sys.argv[1], encoding="utf-8") as f:
        print(json.dumps(parse(f.read()), ensure_ascii=False, indent=1))
