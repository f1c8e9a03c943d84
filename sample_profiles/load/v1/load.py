"""The fixed load flamediff captures for every release of the sample shop.

Run as `python load.py [ORDERS]`. The work is deterministic, so any change in its profile
comes from the code of the release (or from the machine), never from the input.
"""

import sys
import zlib

from shop.catalog import build_catalog
from shop.invoices import render_invoice
from shop.orders import generate_orders, parse_order
from shop.pricing import price_order


def process(raw_orders: list[str], catalog: dict) -> int:
    checksum = 0
    for raw in raw_orders:
        order = parse_order(raw)
        prices = price_order(catalog, order)
        invoice = render_invoice(catalog, order, prices)
        checksum = zlib.crc32(invoice.encode(), checksum)
    return checksum


def main() -> None:
    count = int(sys.argv[1]) if len(sys.argv) > 1 else 100000
    catalog = build_catalog(5000)
    raw_orders = generate_orders(catalog, count)
    print(f"processed {count} orders, checksum {process(raw_orders, catalog):08x}")


if __name__ == "__main__":
    main()
