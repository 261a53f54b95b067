"""Issue an API token for a service account from the command line (printed once).

manage.py api_token mes-brg --name "line 3 gateway" --days 365 --by admin
manage.py api_token mes-brg --create --system mes --site BRG --role inspector --by admin
"""

from django.core.management.base import BaseCommand, CommandError

from qms.core.errors import DomainError
from qms.core.models import Site, User
from qms.core.scoping import system_scope

from ...models import ServiceAccount, System
from ...services import service_account_create, token_create


class Command(BaseCommand):
    help = "Issue a token for a service account (creating the account with --create); the token is printed once."

    def add_arguments(self, parser):
        parser.add_argument("account", help="service account name")
        parser.add_argument("--by", required=True, help="the administrator issuing it (user name)")
        parser.add_argument("--name", default="command line", help="token name")
        parser.add_argument("--days", type=int, default=365, help="valid for this many days")
        parser.add_argument("--create", action="store_true", help="create the service account first")
        parser.add_argument("--system", choices=System.values, default=System.OTHER)
        parser.add_argument("--site", action="append", default=[], help="site code (repeatable, with --create)")
        parser.add_argument("--role", action="append", default=[], help="role at those sites (repeatable)")

    def handle(self, *args, **opts):
        with system_scope():
            admin = User.objects.filter(username=opts["by"], is_active=True).first()
            if admin is None:
                raise CommandError(f"No active user {opts['by']}.")
            try:
                if opts["create"]:
                    sites = list(Site.objects.filter(code__in=opts["site"]))
                    if len(sites) != len(set(opts["site"])) or not sites:
                        raise CommandError("Give existing site codes with --site.")
                    account = service_account_create(
                        username=opts["account"],
                        system=opts["system"],
                        roles={s: opts["role"] for s in sites},
                        user=admin,
                    )
                else:
                    account = ServiceAccount.objects.filter(user__username=opts["account"]).first()
                    if account is None:
                        raise CommandError(f"No service account {opts['account']} (use --create).")
                _token, raw = token_create(account=account, user=admin, name=opts["name"], expires_in_days=opts["days"])
            except DomainError as exc:
                raise CommandError(exc.message) from None
        self.stdout.write(raw)
