"""A tiny CPU-bound load for the py-spy captures beside this file (see README.md)."""

import time


def inner(n):
    return sum(i * i for i in range(n))


def outer():
    start = time.time()
    while time.time() - start < 0.6:
        inner(10000)


outer()
