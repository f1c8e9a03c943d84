"""Every reader of untrusted bytes, fed mutated inputs in a process with little memory.

A small hostile input must never cost more memory than its size justifies: a cache entry
that declares 2**63 names, a speedscope file whose stacks point far outside its frames, a
folded file with a count of 10**30. Each case here starts from a valid input (a cache entry,
folded text, speedscope JSON, each also gzipped), mutates it at random (bytes flipped, cut,
repeated, header fields and numbers replaced by huge ones; a cache entry's digest is
recomputed so that its reader has to check every length), and reads it in a child process
limited to 512 MiB of address space. Each read must either succeed or refuse in one
:class:`~flamediff.errors.FlamediffError`, and the child must end well within the limit.
"""

from __future__ import annotations

import json
import os
import resource
import subprocess
import sys
import textwrap

import pytest

MEMORY_MB = 512
CASES = 900

CHILD = textwrap.dedent(
    """
    import gzip, hashlib, json, random, struct, sys
    import numpy as np
    from flamediff.archive import cache
    from flamediff.errors import FlamediffError
    from flamediff.formats import read_profile_bytes
    from flamediff.model import Profile
    from flamediff.stacks import StackTable

    cases = int(sys.argv[1])
    rng = random.Random(int(sys.argv[2]))
    profile = Profile({
        ("main (app.py:1)", "parse (app.py:5)"): 40,
        ("main (app.py:1)", "render (app.py:9)", "escape (app.py:12)"): 25,
        ("main (app.py:1)",): 7,
    })
    key = cache._key("", "0" * 64)
    entry = cache.encode(key, StackTable.from_counts(dict(profile.counts)))
    folded = "".join(f"{';'.join(s)} {c}\\n" for s, c in profile).encode()
    frames = sorted({f for s, _ in profile for f in s})
    index = {f: i for i, f in enumerate(frames)}
    speedscope = json.dumps({
        "$schema": "https://www.speedscope.app/file-format-schema.json",
        "shared": {"frames": [{"name": f} for f in frames]},
        "profiles": [{
            "type": "sampled", "name": "run", "unit": "none", "startValue": 0, "endValue": 0,
            "samples": [[index[f] for f in s] for s, _ in profile],
            "weights": [c for _, c in profile],
        }],
    }).encode()
    HUGE = [2**31 - 1, 2**32 + 5, 2**62, 2**63 - 1, 2**64 - 1, 10**30]

    def mutate(data: bytes) -> bytes:
        data = bytearray(data)
        for _ in range(rng.randint(1, 4)):
            kind = rng.randrange(5)
            at = rng.randrange(len(data)) if data else 0
            if kind == 0 and data:
                data[at] ^= 1 << rng.randrange(8)
            elif kind == 1:
                del data[at:]
            elif kind == 2 and data:
                data[at:at] = data[at:at + rng.randint(1, 64)] * rng.randint(2, 2000)
            elif kind == 3:
                digits = str(rng.choice(HUGE)).encode()
                data[at:at + rng.randint(1, 3)] = digits
            else:
                data[at:at] = bytes(rng.randrange(256) for _ in range(rng.randint(1, 16)))
        return bytes(data)

    def hostile_entry() -> bytes:
        body = bytearray(entry[:-32])
        start = len(key)
        if rng.random() < 0.7:  # the declared counts, at the most damaging values
            fields = list(struct.unpack_from("<QQQQ", body, start))
            fields[rng.randrange(4)] = rng.choice(HUGE[:5]) % 2**64
            struct.pack_into("<QQQQ", body, start, *fields)
        else:
            body = bytearray(mutate(bytes(body)))
        return bytes(body) + hashlib.sha256(body).digest()

    outcomes = {"read": 0, "refused": 0}
    for number in range(cases):
        reader = number % 3
        if reader == 0:
            table = cache.decode(hostile_entry(), key, profile.total)
            assert table is None or sum(table.counts.tolist()) == profile.total
            outcomes["read" if table is not None else "refused"] += 1
            continue
        data = mutate(folded if reader == 1 else speedscope)
        if rng.random() < 0.3:
            data = gzip.compress(data, mtime=0)
        try:
            read_profile_bytes(data, "case", name="run")
            outcomes["read"] += 1
        except FlamediffError as error:
            assert "\\n" not in str(error), error
            outcomes["refused"] += 1
    status = open("/proc/self/status").read()
    peak_kb = int(status.split("VmHWM:")[1].split()[0])
    print(json.dumps({**outcomes, "peak_mb": peak_kb / 1024}))
    """
)


def _limit() -> None:
    size = MEMORY_MB << 20
    resource.setrlimit(resource.RLIMIT_AS, (size, size))


@pytest.mark.parametrize("seed", [1, 2])
def test_mutated_inputs_are_read_or_refused_within_a_memory_limit(seed: int) -> None:
    done = subprocess.run(
        [sys.executable, "-c", CHILD, str(CASES), str(seed)],
        preexec_fn=_limit,
        env={**os.environ, "OPENBLAS_NUM_THREADS": "1"},
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    outcome = json.loads(done.stdout)
    assert outcome["read"] + outcome["refused"] == CASES
    # Both outcomes happen: the mutations reach the readers' checks, not only their first line.
    assert outcome["read"] > 0, outcome
    assert outcome["refused"] > 0, outcome
    assert outcome["peak_mb"] < MEMORY_MB / 2, outcome
