"""The plugshare plugin of this package: it registers the cash-receipts adapter.

plugshare finds it through the entry point in pyproject.toml::

    [project.entry-points.plugshare]
    cash_receipts = "plugshare_cash_receipts.plugin"
"""

from plugshare.adapters import hookimpl

from plugshare_cash_receipts.adapter import CashReceiptsAdapter


@hookimpl
def plugshare_register_adapters(register):
    register(CashReceiptsAdapter)
