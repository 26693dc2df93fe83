"""Organizations reads: the active accounts, for spoke discovery (`spokes.discover_organization`)."""

from __future__ import annotations

from vpce_console.aws.models import Account
from vpce_console.aws.session import AwsGateway


async def list_accounts(gw: AwsGateway) -> list[Account]:
    """Every account of the organization (paginated ListAccounts), active ones first."""
    accounts: list[Account] = []
    async for page in gw.paginate("organizations", "list_accounts"):
        for a in page.get("Accounts", []):
            accounts.append(
                Account(account_id=str(a["Id"]), name=str(a.get("Name", "")), status=str(a.get("Status", "ACTIVE")))
            )
    return sorted(accounts, key=lambda a: (a.status != "ACTIVE", a.account_id))
