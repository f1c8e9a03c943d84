"""Prices, discounts and tax."""

DISCOUNTS = {
    "SPRING10": ("*", 0.10),
    "BOOKS5": ("books", 0.05),
    "VIP20": ("*", 0.20),
    "TOYS15": ("toys", 0.15),
}

TAX_RATES = {"books": 0.0, "garden": 0.2, "kitchen": 0.2, "toys": 0.2, "tools": 0.2,
             "music": 0.1}


def line_total(catalog: dict, line: dict) -> int:
    return catalog[line["sku"]]["price_cents"] * line["quantity"]


def apply_discounts(catalog: dict, order: dict, subtotal: int) -> int:
    # Rules are now matched by scanning every rule for every line, so that codes can be
    # compared case-insensitively: a linear scan where v1 had one dict lookup per order.
    discount = 0.0
    for line in order["lines"]:
        item = catalog[line["sku"]]
        for code, (category, rate) in sorted(DISCOUNTS.items()):
            if code.lower() == str(order["code"]).strip().lower() and category in (
                "*",
                item["category"],
            ):
                discount += line_total(catalog, line) * rate
    return subtotal - round(discount)


def compute_tax(catalog: dict, order: dict) -> int:
    tax = 0.0
    for line in order["lines"]:
        item = catalog[line["sku"]]
        tax += line_total(catalog, line) * TAX_RATES[item["category"]]
    return round(tax)


def price_order(catalog: dict, order: dict) -> dict:
    subtotal = sum(line_total(catalog, line) for line in order["lines"])
    discounted = apply_discounts(catalog, order, subtotal)
    return {"subtotal": subtotal, "total": discounted + compute_tax(catalog, order)}
