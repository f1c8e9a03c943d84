"""Ground truth for one release of a trial: timeit and cProfile, run in that release's venv.

    <venv>/bin/python truth.py LOAD.py --timeit N --profile OUT.json   (or --timeit-only)

Standard library only: it runs under the trial's interpreter, not flamediff's. It prints one
JSON document: the CPU and wall seconds of each timed `main()` call, and, with --profile,
cProfile's per-function statistics keyed the way py-spy names a frame once flamediff drops
the line number: `qualname (path)`, the path relative to the sys.path entry it was found in.

A sampler attributes time spent in C functions (builtins, methods of built-in types) to the
Python function that called them; cProfile lists them apart. `self_s` therefore adds each C
function's time to its callers, in proportion to what cProfile recorded per caller, so that
it measures what py-spy's self time measures. `tottime_s` is cProfile's own number.
"""

from __future__ import annotations

import argparse
import cProfile
import gc
import importlib.util
import json
import pstats
import sys
import time
import types
from pathlib import Path


def load_module(path: str) -> types.ModuleType:
    spec = importlib.util.spec_from_file_location("trial_load", path)
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules["trial_load"] = module
    spec.loader.exec_module(module)
    return module


def timed(main: types.FunctionType, repeat: int) -> dict[str, list[float]]:
    main()  # warm-up: imports, regex compilation, caches
    cpu, wall = [], []
    for _ in range(repeat):
        wall_start, cpu_start = time.perf_counter(), time.process_time()
        main()
        cpu.append(time.process_time() - cpu_start)
        wall.append(time.perf_counter() - wall_start)
    return {"cpu_s": cpu, "wall_s": wall}


def qualnames() -> dict[tuple[str, int, str], str]:
    """(file, first line, name) -> qualified name, for every code object still reachable."""
    found: dict[tuple[str, int, str], str] = {}
    stack = [obj.__code__ for obj in gc.get_objects() if isinstance(obj, types.FunctionType)]
    while stack:
        code = stack.pop()
        key = (code.co_filename, code.co_firstlineno, code.co_name)
        if key in found:
            continue
        found[key] = code.co_qualname
        stack.extend(const for const in code.co_consts if isinstance(const, types.CodeType))
    return found


def short_path(filename: str, roots: list[str]) -> str:
    for root in roots:
        if root and filename.startswith(root + "/"):
            return filename[len(root) + 1 :]
    return filename


def profiled(main: types.FunctionType, load_dir: str) -> dict[str, dict[str, float]]:
    main()  # the same warm-up as the timed runs
    profiler = cProfile.Profile()
    profiler.enable()
    main()
    profiler.disable()
    stats = pstats.Stats(profiler).stats  # type: ignore[attr-defined]
    names = qualnames()
    roots = sorted({*sys.path, load_dir}, key=len, reverse=True)

    def key_of(func: tuple[str, int, str]) -> str | None:
        filename, _line, name = func
        if filename == "~" or filename.startswith("<"):
            return None  # a C function, or frozen import machinery
        qualname = names.get(func, name)
        return f"{qualname} ({short_path(filename, roots)})"

    rows: dict[str, dict[str, float]] = {}

    def row(key: str) -> dict[str, float]:
        return rows.setdefault(key, {"self_s": 0.0, "tottime_s": 0.0, "cumtime_s": 0.0, "calls": 0})

    for func, (_, calls, tottime, cumtime, callers) in stats.items():
        key = key_of(func)
        if key is not None:
            entry = row(key)
            entry["tottime_s"] += tottime
            entry["self_s"] += tottime
            entry["cumtime_s"] += cumtime
            entry["calls"] += calls
            continue
        # C function: its time goes to the Python callers, as a sampler would see it.
        for caller, (_, _, caller_tottime, _) in callers.items():
            caller_key = key_of(caller)
            if caller_key is not None:
                row(caller_key)["self_s"] += caller_tottime
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("load")
    parser.add_argument("--timeit", type=int, default=0, help="timed main() calls")
    parser.add_argument("--profile", action="store_true", help="one cProfile'd main() call")
    args = parser.parse_args()
    module = load_module(args.load)
    document: dict[str, object] = {"python": sys.version.split()[0]}
    if args.timeit:
        document.update(timed(module.main, args.timeit))
    if args.profile:
        document["functions"] = profiled(module.main, str(Path(args.load).resolve().parent))
    json.dump(document, sys.stdout, sort_keys=True)


if __name__ == "__main__":
    main()
