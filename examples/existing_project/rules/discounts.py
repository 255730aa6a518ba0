"""Discount rules: they change often, so this module is reloadable (pmnc.discounts)."""


def rate(gross):
    """Return the discount for an invoice of ``gross`` cents, as a fraction."""
    return 0.0
