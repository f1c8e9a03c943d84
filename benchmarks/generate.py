"""Deterministic generator of large, realistic py-spy profiles for the benchmarks.

The same seed and sizes give the same bytes on every machine: only ``random.Random``, seeded
with strings, drives the choices, never NumPy or the salted ``hash()``. (Python promises the
sequence of ``random()`` across versions, not that of every helper built on it, so a new Python
may generate other, equally realistic profiles: benchmarks compare runs on one machine.)

What makes the profiles realistic, and why it matters for speed:

- A fixed *code base* of functions in modules (``validate_payload (svc/api/payload_views.py:412)``)
  with a call graph, so stacks share long prefixes the way real ones do: prefix sharing is what
  a flame graph layout and any prefix-merge exploit, and what a per-stack parser cannot.
- Frames are the call *site* (``def`` line plus an offset per callee), so one function shows up
  under several line numbers, as in py-spy's default output; line stripping then merges them.
- Depths are uniform in [10, 60] and counts heavy-tailed (most stacks seen once or twice, a few
  thousands of times), as in py-spy captures of a busy service.
- A head release is the base with the changes a diff must find: hot functions that regressed,
  one that got faster, stacks that vanished and new ones.

Sizes of the benchmarks and anchors (see the Performance section of README.md): a pair of
100,000 unique stacks (about 150 MB of text each), and releases of 8 runs of 20,000 stacks each.

CLI::

    python -m benchmarks.generate pair --stacks 100000 --seed 1 --out benchmarks/.data/pair
    python -m benchmarks.generate releases --runs 8 --stacks 20000 --seed 2 --out DIR
"""

from __future__ import annotations

import argparse
import math
import random
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from flamediff.formats import write_collapsed
from flamediff.model import Profile, Stack

MIN_DEPTH = 10
MAX_DEPTH = 60

_VERBS = (
    "parse", "load", "handle", "render", "compute", "validate", "fetch", "build", "resolve",
    "update", "serialize", "dispatch", "process", "encode", "decode", "merge", "filter",
    "apply", "collect", "emit", "read", "write", "check", "lookup", "normalize", "split",
)  # fmt: skip
_NOUNS = (
    "order", "request", "item", "record", "token", "frame", "header", "payload", "session",
    "cache", "query", "row", "node", "event", "config", "batch", "message", "span", "schema",
    "user", "price", "invoice", "route", "field", "column", "index", "chunk", "entry",
)  # fmt: skip
_PACKAGES = ("shop", "svc", "core", "lib", "db", "web", "util", "io")
_KINDS = ("views", "models", "utils", "handlers", "tasks", "codec", "store", "api")
# Standard-library and site-packages frames that real Python stacks are full of: short files,
# shared by everything, the part of a frame name that interning saves most on.
_LIBRARY = (
    ("wrapper", "functools.py"), ("__call__", "json/decoder.py"), ("_run", "asyncio/events.py"),
    ("run", "threading.py"), ("inner", "contextlib.py"), ("__enter__", "contextlib.py"),
    ("execute", "sqlalchemy/engine/base.py"), ("get", "requests/sessions.py"),
    ("loads", "json/__init__.py"), ("<genexpr>", "shop/utils.py"), ("<listcomp>", "core/ops.py"),
    ("<lambda>", "shop/api.py"),
)  # fmt: skip


@dataclass(frozen=True, slots=True)
class _Function:
    name: str
    file: str
    first_line: int
    callees: tuple[int, ...]

    def frame(self, offset: int) -> str:
        return f"{self.name} ({self.file}:{self.first_line + offset})"


class CodeBase:
    """Functions and who calls whom: the fixed world every generated stack walks through."""

    def __init__(self, seed: int, functions: int = 4000) -> None:
        rng = random.Random(f"codebase-{seed}")
        names: list[tuple[str, str]] = []
        for index in range(functions):
            if index % 9 == 0:
                names.append(_LIBRARY[index // 9 % len(_LIBRARY)])
                continue
            verb, noun = rng.choice(_VERBS), rng.choice(_NOUNS)
            suffix = rng.choice(("", "", "", "_impl", "_inner", "_all", "_one"))
            package = rng.choice(_PACKAGES)
            if rng.random() < 0.6:
                package += f"/{rng.choice(_NOUNS)}s"
            module = f"{package}/{rng.choice(_NOUNS)}_{rng.choice(_KINDS)}.py"
            names.append((f"{verb}_{noun}{suffix}", module))
        self.functions: list[_Function] = []
        for index, (name, file) in enumerate(names):
            # Fan-out of 1 to 6 callees; a few callees are "hubs" shared by many callers, as
            # helpers and library wrappers are.
            count = rng.choice((1, 2, 2, 3, 3, 4, 5, 6))
            callees = tuple(
                rng.randrange(64) if rng.random() < 0.15 else rng.randrange(functions)
                for _ in range(count)
            )
            first_line = 10 + 7 * (index % 150) + rng.randrange(7)
            self.functions.append(_Function(name, file, first_line, callees))
        self._frames: dict[tuple[int, int], str] = {}

    def frame(self, function: int, offset: int) -> str:
        key = (function, offset)
        text = self._frames.get(key)
        if text is None:
            text = self._frames[key] = self.functions[function].frame(offset)
        return text

    def walk(self, rng: random.Random, root: int = 0) -> tuple[Stack, int]:
        """One stack of random depth: a call path from the entry point, and its leaf."""
        depth = rng.randint(MIN_DEPTH, MAX_DEPTH)
        frames = ["<module> (main.py:1)"]
        current = root
        while len(frames) < depth - 1:
            callees = self.functions[current].callees
            # Earlier callees are the common path: a mild skew keeps prefixes shared.
            choice = min(int(rng.expovariate(0.9)), len(callees) - 1)
            frames.append(self.frame(current, 3 + 2 * choice))
            current = callees[choice]
        # The leaf sits on any line of its body, not on a call site.
        frames.append(self.frame(current, 1 + rng.randrange(12)))
        return tuple(frames), current


def _heavy_tailed_count(rng: random.Random) -> int:
    # Pareto with shape 1.2: about half the stacks get 1 or 2 samples, a few get thousands.
    return min(int(rng.paretovariate(1.2)), 50_000)


def unique_stacks(codebase: CodeBase, seed: str, count: int) -> list[tuple[Stack, int]]:
    """``count`` distinct stacks with their leaf function, in generation order."""
    rng = random.Random(seed)
    seen: set[Stack] = set()
    found: list[tuple[Stack, int]] = []
    while len(found) < count:
        stack, leaf = codebase.walk(rng)
        if stack not in seen:
            seen.add(stack)
            found.append((stack, leaf))
    return found


def _changed_functions(codebase: CodeBase, seed: int) -> tuple[set[int], set[int]]:
    rng = random.Random(f"changes-{seed}")
    candidates = range(64, len(codebase.functions))
    regressed = set(rng.sample(candidates, 12))
    improved = set(rng.sample(candidates, 6)) - regressed
    return regressed, improved


def profile_pair(stacks: int, seed: int) -> tuple[list[tuple[Stack, int]], list[tuple[Stack, int]]]:
    """A base and a head profile of ``stacks`` unique stacks each, as (stack, count) lists.

    The head keeps 85% of the base's stacks (counts jittered; stacks ending in a regressed
    function doubled, in an improved one halved) and replaces the rest with stacks the base
    never saw. Lists keep generation order, which is as unordered as py-spy's output.
    """
    codebase = CodeBase(seed)
    regressed, improved = _changed_functions(codebase, seed)
    generated = unique_stacks(codebase, f"stacks-{seed}", stacks + stacks * 15 // 100)
    base_part, extra = generated[:stacks], generated[stacks:]
    rng = random.Random(f"counts-{seed}")
    base = [(stack, _heavy_tailed_count(rng)) for stack, _ in base_part]
    head: list[tuple[Stack, int]] = []
    dropped = set(rng.sample(range(stacks), len(extra)))
    for index, ((stack, leaf), (_, count)) in enumerate(zip(base_part, base, strict=True)):
        if index in dropped:
            continue
        scale = 2.0 if leaf in regressed else 0.5 if leaf in improved else 1.0
        head.append((stack, max(1, round(count * scale * rng.uniform(0.8, 1.25)))))
    head.extend((stack, _heavy_tailed_count(rng)) for stack, _ in extra)
    return base, head


def release_runs(
    runs: int, stacks: int, seed: int, *, head: bool = False
) -> list[list[tuple[Stack, int]]]:
    """The runs of one release: each ``stacks`` unique stacks drawn from one population.

    Every run samples the same population of ``stacks * 3 // 2`` stacks, with its own machine
    speed (a few percent) and Poisson noise on each count, so run-to-run variation is realistic
    for the statistics. ``head=True`` applies the head's changes to the population weights.
    """
    codebase = CodeBase(seed)
    regressed, improved = _changed_functions(codebase, seed)
    population = unique_stacks(codebase, f"stacks-{seed}", stacks * 3 // 2)
    rng = random.Random(f"weights-{seed}")
    weights = []
    for _stack, leaf in population:
        weight = float(_heavy_tailed_count(rng))
        if head:
            weight *= 1.3 if leaf in regressed else 0.7 if leaf in improved else 1.0
        weights.append(weight)
    result = []
    for run in range(runs):
        run_rng = random.Random(f"run-{seed}-{run}-{'head' if head else 'base'}")
        speed = run_rng.uniform(0.95, 1.05)
        # Which stacks a run sees: the heavy ones nearly always, the light ones by chance.
        keys = sorted(
            range(len(population)),
            key=lambda i: run_rng.random() ** (1.0 / weights[i]),
            reverse=True,
        )[:stacks]
        keys.sort()
        result.append(
            [(population[i][0], _poisson(run_rng, weights[i] * speed) or 1) for i in keys]
        )
    return result


def _poisson(rng: random.Random, mean: float) -> int:
    if mean > 30:
        return max(0, round(rng.gauss(mean, math.sqrt(mean))))
    # Knuth's method: exact, and fast for the small means most stacks have.
    limit, product, count = math.exp(-mean), rng.random(), 0
    while product > limit:
        product *= rng.random()
        count += 1
    return count


def folded_text(pairs: Sequence[tuple[Stack, int]]) -> str:
    """Folded text in the given order, as py-spy writes it (unsorted)."""
    return "".join(f"{';'.join(stack)} {count}\n" for stack, count in pairs)


def write_pair(folder: Path, stacks: int, seed: int) -> tuple[Path, Path]:
    """``base.folded`` and ``head.folded`` in ``folder``, generated unless already there."""
    folder.mkdir(parents=True, exist_ok=True)
    paths = folder / "base.folded", folder / "head.folded"
    if all(path.is_file() for path in paths):
        return paths
    for path, pairs in zip(paths, profile_pair(stacks, seed), strict=True):
        temp = path.with_suffix(".tmp")
        temp.write_text(folded_text(pairs), encoding="utf-8")
        temp.replace(path)
    return paths


def write_releases(folder: Path, runs: int, stacks: int, seed: int) -> dict[str, list[Path]]:
    """``base/run-NN.folded`` and ``head/run-NN.folded`` in ``folder``, sorted like py-spy's."""
    result: dict[str, list[Path]] = {}
    for side in ("base", "head"):
        paths = [folder / side / f"run-{run + 1:02d}.folded" for run in range(runs)]
        result[side] = paths
        if all(path.is_file() for path in paths):
            continue
        (folder / side).mkdir(parents=True, exist_ok=True)
        for path, pairs in zip(
            paths, release_runs(runs, stacks, seed, head=side == "head"), strict=True
        ):
            path.write_text(write_collapsed(Profile(dict(pairs))), encoding="utf-8")
    return result


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.generate", description=__doc__)
    sub = parser.add_subparsers(dest="what", required=True)
    pair = sub.add_parser("pair", help="base.folded and head.folded, one run each")
    pair.add_argument("--stacks", type=int, default=100_000)
    pair.add_argument("--seed", type=int, default=1)
    pair.add_argument("--out", type=Path, required=True)
    releases = sub.add_parser("releases", help="base/ and head/ with one folded file per run")
    releases.add_argument("--runs", type=int, default=8)
    releases.add_argument("--stacks", type=int, default=20_000)
    releases.add_argument("--seed", type=int, default=2)
    releases.add_argument("--out", type=Path, required=True)
    args = parser.parse_args(argv)
    if args.what == "pair":
        for path in write_pair(args.out, args.stacks, args.seed):
            print(f"{path}  {path.stat().st_size / 1e6:.1f} MB")
    else:
        for paths in write_releases(args.out, args.runs, args.stacks, args.seed).values():
            size = sum(path.stat().st_size for path in paths) / 1e6
            print(f"{paths[0].parent}  {len(paths)} runs, {size:.1f} MB")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
