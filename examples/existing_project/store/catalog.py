"""Unit prices, in cents."""

PRICES = {"tea": 400, "cake": 350, "scone": 275}


def price_of(item):
    return PRICES[item]
