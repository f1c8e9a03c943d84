"""Products and their prices, built deterministically so every run does the same work."""

import random

CATEGORIES = ("books", "garden", "kitchen", "toys", "tools", "music")


def build_catalog(size: int, seed: int = 7) -> dict[str, dict[str, object]]:
    rng = random.Random(seed)
    catalog = {}
    for index in range(size):
        sku = f"SKU-{index:05d}"
        catalog[sku] = {
            "name": f"Item {index}",
            "category": CATEGORIES[index % len(CATEGORIES)],
            "price_cents": rng.randint(199, 19999),
            "weight_g": rng.randint(50, 5000),
        }
    return catalog
