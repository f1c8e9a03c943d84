"""``python -m flamediff``: the console script, Ctrl-C during start-up included."""

from flamediff.entry import run

run()
