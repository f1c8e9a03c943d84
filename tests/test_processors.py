from __future__ import annotations

import pytest
from builders import profile

from flamediff import processors
from flamediff.model import Profile

EVERY_PROCESSOR = [
    processors.strip_line_numbers,
    processors.drop_thread_roots,
    processors.drop_process_ids,
    processors.fold_import_machinery,
    processors.normalise,
]


@pytest.mark.parametrize("processor", EVERY_PROCESSOR)
def test_every_processor_keeps_samples_and_leaves_its_input_alone(processor) -> None:
    original = profile(
        'thread (0x7F01);"MainThread";main (app.py:3);work (app.py:10) 5',
        'process 41:"python w.py";thread (77);main (w.py:1) 2',
        " 4",
        "main (app.py:3);work (app.py:12) 1",
    )
    before = dict(original.counts)
    result = processor(original)
    assert isinstance(result, Profile)
    assert result.total == original.total
    assert dict(original.counts) == before


def test_line_numbers_are_dropped_so_moved_code_stays_the_same_function() -> None:
    result = processors.strip_line_numbers(
        profile("main (app.py:3);work (app.py:10) 5", "main (app.py:3);work (app.py:12) 1")
    )
    assert dict(result.counts) == {("main (app.py)", "work (app.py)"): 6}


def test_frames_without_a_file_are_kept_verbatim() -> None:
    result = processors.strip_line_numbers(profile("<module>;[native] frame with spaces 2"))
    assert dict(result.counts) == {("<module>", "[native] frame with spaces"): 2}


@pytest.mark.parametrize("root", ["thread (0x7F5A2B3C4D00)", "thread (5582)"])
def test_thread_roots_and_names_are_merged_across_threads(root: str) -> None:
    result = processors.drop_thread_roots(
        profile(f"{root};main (a.py:1) 2", f'{root};"MainThread";main (a.py:1) 3')
    )
    assert dict(result.counts) == {("main (a.py:1)",): 5}


def test_process_ids_go_but_the_command_line_stays() -> None:
    result = processors.drop_process_ids(
        profile(
            'process 41:"python w.py";main (w.py:1) 2', 'process 97:"python w.py";main (w.py:1) 1'
        )
    )
    assert dict(result.counts) == {('process "python w.py"', "main (w.py:1)"): 3}


def test_nested_process_frames_of_child_processes_lose_their_pids_too() -> None:
    result = processors.drop_process_ids(
        profile('process 41:"sh run.sh";process 42:"python w.py";main (w.py:1) 2')
    )
    assert dict(result.counts) == {
        ('process "sh run.sh"', 'process "python w.py"', "main (w.py:1)"): 2
    }


def test_empty_stacks_stay_so_totals_match_samples_taken() -> None:
    result = processors.normalise(profile(" 4", "main (a.py:1) 1"))
    assert result.counts[()] == 4


def test_line_level_keeps_lines_apart() -> None:
    result = processors.normalise(profile("work (a.py:1) 1", "work (a.py:2) 1"), line_level=True)
    assert len(result) == 2


def test_import_machinery_folds_into_one_frame_per_import() -> None:
    boot = "<frozen importlib._bootstrap>"
    result = processors.fold_import_machinery(
        profile(
            f"<module> (a.py:1);_find_and_load ({boot}:1);_load_unlocked ({boot}:2);"
            f"exec_module ({boot}_external:3);<module> (b.py:1);work (b.py:4) 3"
        )
    )
    assert dict(result.counts) == {
        ("<module> (a.py:1)", "<import>", "<module> (b.py:1)", "work (b.py:4)"): 3
    }
