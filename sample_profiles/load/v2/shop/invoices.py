"""Rendering invoices as text."""


def format_money(cents: int) -> str:
    return f"{cents // 100:,}.{cents % 100:02d}"


def render_line(catalog: dict, line: dict) -> str:
    item = catalog[line["sku"]]
    name = str(item["name"]).ljust(24)
    return f"{line['sku']}  {name} x{line['quantity']}  {format_money(item['price_cents'])}"


def render_invoice(catalog: dict, order: dict, prices: dict) -> str:
    parts = [f"Invoice {order['id']} for {order['customer']}"]
    parts.extend(render_line(catalog, line) for line in order["lines"])
    parts.append(f"Subtotal {format_money(prices['subtotal'])}")
    parts.append(f"Total    {format_money(prices['total'])}")
    return "\n".join(parts) + "\n"
