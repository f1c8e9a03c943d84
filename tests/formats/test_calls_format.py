"""Call-count files: written reproducibly, read back exactly, refused by name when damaged."""

from __future__ import annotations

import gzip
import json

import pytest

from flamediff.errors import InputError
from flamediff.formats.calls import dump_calls, merge_calls, parse_calls
from flamediff.model import CallCounts

COUNTS = CallCounts(
    {
        (None, ("<module>", "/app/load.py")): 1,
        (("<module>", "/app/load.py"), ("main", "/app/load.py")): 1,
        (("main", "/app/load.py"), ("Parser.parse", "/app/parser.py")): 3_480,
    },
    processes=2,
    wall_seconds=12.5,
)


def test_a_dump_reads_back_exactly_and_is_the_same_bytes_every_time() -> None:
    data = dump_calls(COUNTS)
    assert parse_calls(data, "calls.json.gz") == COUNTS
    assert dump_calls(parse_calls(data, "calls.json.gz")) == data


def test_the_tracers_plain_output_of_several_processes_adds_up() -> None:
    document = {
        "format": "flamediff-calls",
        "pid": 41,
        "edges": [["main", "/app/load.py", "Parser.parse", "/app/parser.py", 10]],
    }
    one = parse_calls(json.dumps(document).encode(), "calls-41.json")
    both = merge_calls([one, one], wall_seconds=1.5)
    assert both.edges == {(("main", "/app/load.py"), ("Parser.parse", "/app/parser.py")): 20}
    assert both.processes == 2
    assert both.wall_seconds == 1.5


@pytest.mark.parametrize(
    ("data", "reason"),
    [
        (b"{not json", "not valid JSON"),
        (b'{"edges": []}', "not a file of call counts"),
        (b'{"format": "flamediff-calls", "edges": {}}', "'edges' must be a list"),
        (b'{"format": "flamediff-calls", "edges": [["a", "f"]]}', r"edges\[0\] must be"),
        (
            b'{"format": "flamediff-calls", "edges": [[null, null, "a", "f", -1]]}',
            r"edges\[0\]: calls must be a count",
        ),
        (
            b'{"format": "flamediff-calls", "edges": [[null, null, "a", "f", 1.5]]}',
            r"edges\[0\]: calls must be a count",
        ),
        (gzip.compress(b'{"format": "flamediff-calls"')[:-6], "truncated gzip data"),
        (
            b'{"format": "flamediff-calls", "edges": [], "processes": "two"}',
            "'processes' must be a count",
        ),
    ],
)
def test_a_damaged_file_is_refused_naming_it(data: bytes, reason: str) -> None:
    with pytest.raises(InputError, match=rf"^v2/calls.json.gz: .*{reason}"):
        parse_calls(data, "v2/calls.json.gz")


def test_a_gzip_bomb_is_refused_before_it_expands() -> None:
    bomb = gzip.compress(b" " * (80 << 20), compresslevel=9)
    with pytest.raises(InputError, match="expands beyond 64 MiB"):
        parse_calls(bomb, "calls.json.gz")
