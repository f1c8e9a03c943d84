"""Rendering invoices as text."""


def format_money(cents: int) -> str:
    return f"{cents // 100:,}.{cents % 100:02d}"


def render_line(catalog: dict, line: dict) -> str:
    item = catalog[line["sku"]]
    name = str(item["name"]).ljust(24)
    return f"{line['sku']}  {name} x{line['quantity']}  {format_money(item['price_cents'])}"


def render_invoice(catalog: dict, order: dict, prices: dict) -> str:
    # Re-renders the whole text for every line: quadratic in the number of lines.
    text = f"Invoice {order['id']} for {order['customer']}\n"
    for line in order["lines"]:
        text = "".join([text, render_line(catalog, line), "\n"])
        text = text.replace("\r", "")
    text += f"Subtotal {format_money(prices['subtotal'])}\n"
    text += f"Total    {format_money(prices['total'])}\n"
    return text
