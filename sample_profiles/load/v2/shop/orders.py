"""Parsing and validating incoming orders."""

import json
import random


def generate_orders(catalog: dict, count: int, seed: int = 11) -> list[str]:
    rng = random.Random(seed)
    skus = sorted(catalog)
    codes = ["", "", "SPRING10", "BOOKS5", "VIP20", "FREESHIP", "TOYS15"]
    orders = []
    for number in range(count):
        lines = [
            {"sku": rng.choice(skus), "quantity": rng.randint(1, 4)}
            for _ in range(rng.randint(1, 8))
        ]
        order = {"id": number, "customer": f"c{rng.randint(1, 900)}", "lines": lines,
                 "code": rng.choice(codes)}
        orders.append(json.dumps(order))
    return orders


def parse_order(raw: str) -> dict:
    order = json.loads(raw)
    validate_order(order)
    return order


def validate_order(order: dict) -> None:
    if not order["lines"]:
        raise ValueError(f"order {order['id']} has no lines")
    for line in order["lines"]:
        if line["quantity"] <= 0:
            raise ValueError(f"order {order['id']} has a bad quantity")
