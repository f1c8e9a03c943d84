"""Pure normalisers that make profiles of two releases comparable.

Every processor has the same contract: it takes a Profile and returns a new Profile, never
touching the input, and is always called as ``profile = processor(profile)``. The archive
keeps what py-spy wrote, untouched; these run when a release is read for analysis, so a
choice made here can be changed later without recapturing anything.

What the default pipeline (``normalise``) decides, and why:

- **Line numbers are dropped** (``func (pkg/mod.py:123)`` -> ``func (pkg/mod.py)``): code that
  merely moved between releases must not look like one function vanishing and another
  appearing. ``line_level=True`` keeps them for a drill-down inside one function.
- **Thread roots are dropped** (py-spy ``--threads`` adds ``thread (5582)`` or
  ``thread (0x7F..)``, maybe with the thread's name, as the root frame): thread ids change on
  every run, so keeping them would make every stack "new". Time is merged across threads,
  as without ``--threads``.
- **Process roots lose their pid** (``--subprocesses`` adds ``process 4242:"python work.py"``):
  the command line stays, so separate worker programs stay apart, but the pid, which changes
  on every run, goes.
- **Import machinery is folded**: each run of consecutive ``<frozen importlib._bootstrap>``
  frames becomes one ``<import>`` frame. Start-up imports otherwise build towers of fifty
  frames that say nothing but "importing", and dwarf the real code in a flamegraph; the
  time stays, under the module that imported.
- **Empty stacks stay** as the empty stack: they are samples in which py-spy saw no Python
  frame (idle, or native-only code). They count in the run's total, so totals match the
  number of samples taken; the analysis reports them as the pseudo-function ``<idle>``.
"""

from __future__ import annotations

import re
import sys
from collections.abc import Callable, Sequence
from functools import lru_cache
from itertools import chain

from flamediff.model import FrameName, Profile, Stack

Processor = Callable[[Profile], Profile]

_THREAD_ROOT = re.compile(r"^thread \((?:0x[0-9A-Fa-f]+|\d+)\)")
_PROCESS_ROOT = re.compile(r'^process \d+:(?P<cmd>".*")$', re.DOTALL)


# Distinct frames remembered at most, across profiles (a release's runs share their frames).
_MEMO_LIMIT = 1 << 20


class _FrameMemo(dict[str, str]):
    """Frame name -> transformed name, computed once per distinct name.

    A profile repeats a few thousand frames across many thousand stacks: ``tuple(map(memo
    .__getitem__, stack))`` then rewrites a stack in C, and only a name never seen before
    reaches Python (``__missing__``).
    """

    def __init__(self, transform: Callable[[str], str]) -> None:
        super().__init__()
        self.transform = transform

    def __missing__(self, frame: str) -> str:
        if len(self) >= _MEMO_LIMIT:
            self.clear()
        # Interned, so the stacks that share this frame share one string object.
        value = self[frame] = sys.intern(self.transform(frame))
        return value


_WITHOUT_LINE = _FrameMemo(lambda name: FrameName.parse(name).without_line())


def strip_line_numbers(profile: Profile) -> Profile:
    """Identify frames by function and file, not by line."""
    without_line = _WITHOUT_LINE.__getitem__
    return profile.map_stacks(lambda stack: tuple(map(without_line, stack)))


def _roots(profile: Profile) -> set[str]:
    return {stack[0] for stack in profile.counts if stack}


def _is_thread_root(frame: str) -> bool:
    return _THREAD_ROOT.match(frame) is not None


def drop_thread_roots(profile: Profile) -> Profile:
    """Remove py-spy's ``thread (0x..)`` root frames, merging time across threads."""

    if not any(_is_thread_root(root) for root in _roots(profile)):
        return profile  # nothing to drop: skip rebuilding every stack

    def transform(stack: Stack) -> Stack:
        # py-spy may write the thread name as a second frame right under the id frame, as
        # `"MainThread"`; it goes too, since it is part of the same thread root.
        if stack and _is_thread_root(stack[0]):
            rest = stack[1:]
            if rest and rest[0].startswith('"') and rest[0].endswith('"'):
                rest = rest[1:]
            return rest
        return stack

    return profile.map_stacks(transform)


def drop_process_ids(profile: Profile) -> Profile:
    """Rewrite ``process PID:"cmd"`` frames as ``process "cmd"``.

    py-spy nests them: a child's frame stands under its parent's, one per generation, above
    the first Python frame.
    """

    if not any(_PROCESS_ROOT.match(root) for root in _roots(profile)):
        return profile  # nothing to rewrite: skip rebuilding every stack

    def transform(stack: Stack) -> Stack:
        if not stack or _PROCESS_ROOT.match(stack[0]) is None:
            return stack
        frames = list(stack)
        for index, frame in enumerate(frames):
            match = _PROCESS_ROOT.match(frame)
            if match is None:
                break
            frames[index] = f"process {match['cmd']}"
        return tuple(frames)

    return profile.map_stacks(transform)


IMPORT_FRAME = "<import>"


@lru_cache(maxsize=1 << 16)
def _is_import_machinery(name: str) -> bool:
    file = FrameName.parse(name).file
    return file is not None and file.startswith("<frozen importlib")


def fold_import_machinery(profile: Profile) -> Profile:
    """Replace each run of consecutive importlib frames by one ``<import>`` frame."""

    # Classified once per distinct frame; a stack is then tested in C, by set disjointness.
    machinery = {
        frame for frame in set(chain.from_iterable(profile.counts)) if _is_import_machinery(frame)
    }
    if not machinery:
        return profile

    def transform(stack: Stack) -> Stack:
        if machinery.isdisjoint(stack):
            return stack
        folded: list[str] = []
        for frame in stack:
            if frame in machinery:
                if not folded or folded[-1] != IMPORT_FRAME:
                    folded.append(IMPORT_FRAME)
            else:
                folded.append(frame)
        return tuple(folded)

    return profile.map_stacks(transform)


def pipeline(*, line_level: bool = False) -> Sequence[Processor]:
    """The processors ``normalise`` applies, in order."""
    steps: list[Processor] = [drop_process_ids, drop_thread_roots, fold_import_machinery]
    if not line_level:
        steps.append(strip_line_numbers)
    return steps


def normalise(profile: Profile, *, line_level: bool = False) -> Profile:
    """Apply the default pipeline: see the module docstring for what each step decides."""
    for processor in pipeline(line_level=line_level):
        profile = processor(profile)
    return profile
