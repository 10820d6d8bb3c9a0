"""`minsheng-accounts`: the first city-office account, and the gateway's signing key pair.

Everything else about accounts is done by the city office through the API (`/api/v1/accounts`).
The database is the gateway's (GATEWAY_DATABASE_URL), migrated first.
"""

from __future__ import annotations

import argparse
import getpass
import sys
from pathlib import Path

from minsheng.auth.keys import ensure_key_pair
from minsheng.auth.models import Role
from minsheng.db import Database
from minsheng.db.migrations import upgrade_to_head
from minsheng.errors import DomainError
from minsheng_gateway.identity.models import AccountCreate
from minsheng_gateway.identity.service import create_account, utcnow
from minsheng_gateway.migration_plan import migration_plan
from minsheng_gateway.settings import GatewaySettings


def _password(args: argparse.Namespace) -> str:
    if args.password_stdin:
        return sys.stdin.readline().rstrip("\n")
    first = getpass.getpass("密码 password: ")
    if getpass.getpass("再输一次 again: ") != first:
        raise SystemExit("两次输入的密码不一致 / the passwords differ")
    return first


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="minsheng-accounts", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)
    admin = sub.add_parser("create-admin", help="create a city-office (市民生办) account")
    admin.add_argument("--username", required=True)
    admin.add_argument("--display-name", required=True, help="as the history shows it, e.g. 市民生办 王五")
    admin.add_argument("--password-stdin", action="store_true", help="read the password from stdin, not a prompt")
    admin.add_argument("--database-url", help="default: GATEWAY_DATABASE_URL")
    keys = sub.add_parser("generate-keys", help="write an Ed25519 key pair for service tokens (if none is there)")
    keys.add_argument("directory", type=Path)
    args = parser.parse_args(argv)

    if args.command == "generate-keys":
        private, public = ensure_key_pair(args.directory)
        print(f"GATEWAY_JWT_PRIVATE_KEY={private}\n<CAMPAIGN>_JWT_PUBLIC_KEY={public}")
        return 0

    settings = GatewaySettings()
    url = args.database_url or settings.database_url
    upgrade_to_head(migration_plan, url)
    database = Database(url)
    try:
        with database.session() as session:
            data = AccountCreate(
                username=args.username, display_name=args.display_name, role=Role.city_office, password=_password(args)
            )
            account = create_account(
                session=session,
                data=data,
                created_by=None,
                now=utcnow(),
                min_password_length=settings.password_min_length,
            )
    except DomainError as error:
        print(error.detail, file=sys.stderr)
        return 1
    finally:
        database.dispose()
    print(f"account {account.id} ({account.username}) created")
    return 0


if __name__ == "__main__":
    sys.exit(main())
