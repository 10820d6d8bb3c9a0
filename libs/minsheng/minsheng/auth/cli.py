"""`minsheng-tokens`: issue, list and revoke bearer tokens.

A token is written (hashed) into the database of every campaign service, so one token works
for a bureau in all five services and through the gateway.  The databases are those the
services' settings name (EDUCATION_DATABASE_URL …, by default those of `make run`'s PostgreSQL).
"""

from __future__ import annotations

import argparse
import importlib
import sys

from minsheng.auth.models import ApiToken, Role
from minsheng.auth.service import issue_token, revoke_token
from minsheng.catalog.document import CAMPAIGN_CODES
from minsheng.db import Database
from minsheng.db.migrations import upgrade_to_head


def _databases(only: str | None):
    for campaign in CAMPAIGN_CODES:
        if only and campaign != only:
            continue
        module = importlib.import_module(f"minsheng_{campaign}.main")
        upgrade_to_head(module.migration_plan, module.settings.database_url)
        yield campaign, Database(module.settings.database_url)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="minsheng-tokens", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)
    issue = sub.add_parser("issue", help="issue a token (printed once)")
    issue.add_argument("--name", required=True, help="who holds it, e.g. 市教育局 张三")
    issue.add_argument("--role", required=True, choices=[r.value for r in Role])
    issue.add_argument("--department", help="bureau: its department, e.g. 市教育局")
    issue.add_argument("--org-unit", help="district: its org unit code, e.g. 370303")
    issue.add_argument("--indicators", help="integration: comma-separated indicator codes, e.g. T076-1,H-EMP-1")
    revoke = sub.add_parser("revoke", help="revoke a token by id")
    revoke.add_argument("token_id", type=int)
    sub.add_parser("list", help="list tokens (never their values)")
    for p in (issue, revoke):
        p.add_argument("--campaign", choices=CAMPAIGN_CODES, help="only this service's database")
    args = parser.parse_args(argv)

    if args.command == "list":
        database = next(_databases("education"))[1]
        with database.session() as session:
            for row in session.query(ApiToken).order_by(ApiToken.id):
                state = f"revoked {row.revoked_at:%Y-%m-%d}" if row.revoked_at else "active"
                scope = row.department or row.org_unit_code or row.indicator_codes or ""
                print(f"{row.id:>4}  {row.role.value:<12} {scope:<24} {row.name}  [{state}]")
        return 0

    clear = None
    for campaign, database in _databases(args.campaign):
        with database.session() as session:
            if args.command == "issue":
                indicators = args.indicators.split(",") if args.indicators else None
                row, clear = issue_token(session=session, name=args.name, role=Role(args.role),
                                         department=args.department, org_unit=args.org_unit,
                                         indicators=indicators, token=clear)
                print(f"{campaign}: token id {row.id} stored", file=sys.stderr)
            else:
                row = revoke_token(session=session, token_id=args.token_id)
                print(f"{campaign}: {'revoked' if row else 'no such token'}", file=sys.stderr)
        database.dispose()
    if args.command == "issue":
        print(clear)
    return 0


if __name__ == "__main__":
    sys.exit(main())
