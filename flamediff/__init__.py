"""flamediff: make performance regressions visible and blocking, release after release."""

__version__ = "0.1.0"
