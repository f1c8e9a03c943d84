"""Analysis: per-function tables, comparisons and their statistics, as pandas frames.

- :mod:`~flamediff.analysis.tables`: per-run self and total samples of every function, and a
  release's top functions.
- :mod:`~flamediff.analysis.stats`: exact tie-aware Mann-Whitney U, Benjamini-Hochberg, the
  median-of-ratios scale factors and the noise floor, on NumPy arrays.
- :mod:`~flamediff.analysis.compare`: the comparison frame of two releases.
- :mod:`~flamediff.analysis.simulate`: synthetic releases measuring the gate.

Importing this package loads pandas and SciPy; the CLI imports it inside its commands only.
"""

from flamediff.analysis.compare import CompareOptions, compare, comparison_meta, view
from flamediff.analysis.tables import run_table, top_functions

__all__ = ["CompareOptions", "compare", "comparison_meta", "run_table", "top_functions", "view"]
