"""Load for the idna trial: encode and decode internationalised domain names.

Most of the load is ordinary names. A fixed share is labels with many zero-width non-joiners
far from any joining letter: the input of CVE-2024-3651, where idna 3.6's `valid_contextj`
scans the whole label for each joiner and idna 3.7's stops at the first character.
"""

import contextlib
import random

import idna

ROUNDS = 20
CRAFTED_PER_ROUND = 3

LABELS = ["münchen", "straße", "пример", "例え", "δοκιμή", "bücher", "köln", "zürich", "ołówek"]


def domains() -> list[str]:
    rng = random.Random(3)
    return [
        ".".join(rng.choice(LABELS) for _ in range(rng.randint(1, 3))) + ".example"
        for _ in range(1500)
    ]


def crafted() -> list[str]:
    # Arabic beh (dual-joining) at both ends; Latin letters and joiners in between.
    return ["\u0628" + ("ab" * 8 + "\u200c") * 60 + "\u0628" for _ in range(CRAFTED_PER_ROUND)]


def main() -> None:
    names = domains()
    attacks = crafted()
    for _ in range(ROUNDS):
        for name in names:
            idna.decode(idna.encode(name, uts46=True))
        for label in attacks:
            with contextlib.suppress(idna.IDNAError):
                idna.encode(label)


if __name__ == "__main__":
    main()
