"""Invoices: lines priced from the catalog, less the discount the rules give.

The one change pmnc_hook needed: discounts.py moved to rules/ (a module directory), and the
calls into it go through pmnc, so a new version of the rules is used from the next invoice
on. Before the move this module said ``from store import catalog, discounts`` and
called ``discounts.rate(...)``.
"""

from pmnc_hook import pmnc
from store import catalog


def total(lines):
    """Return (total in cents, discount rate) for ``lines``: (item, quantity) pairs."""
    gross = sum(catalog.price_of(item) * quantity for item, quantity in lines)
    rate = pmnc.discounts.rate(gross)  # the current version of rules/discounts.py
    return round(gross * (1 - rate)), rate
