"""The columnar form of a profile holds exactly the profile, whatever its stacks."""

from collections import Counter

from hypothesis import given
from hypothesis import strategies as st

from flamediff.model import Profile, merge
from flamediff.stacks import StackTable, union

# Few names, so that stacks share prefixes, recurse and repeat across profiles; "<idle>" and
# names that sort between others test the ordering of ids.
frames = st.sampled_from(["a", "b", "main", "<idle>", "z (m.py:1)", "é", "a;b"])
stacks = st.lists(frames, max_size=8).map(tuple)
counts = st.dictionaries(stacks, st.integers(min_value=0, max_value=1000), max_size=30)


@given(counts)
def test_from_counts_and_back_is_the_same_mapping(mapping):
    table = StackTable.from_counts(mapping)
    assert table.to_counts() == mapping
    assert table.total == sum(mapping.values())
    assert len(table) == len(mapping)


@given(counts)
def test_rows_are_the_stacks_sorted_as_tuples_of_names(mapping):
    table = StackTable.from_counts(mapping)
    assert [table.stack(row) for row in range(len(table))] == sorted(mapping)
    assert list(table.names) == sorted({frame for stack in mapping for frame in stack})


@given(st.lists(counts, min_size=1, max_size=4))
def test_union_holds_every_stack_once_with_each_tables_count(mappings):
    tables = [StackTable.from_counts(mapping) for mapping in mappings]
    merged, matrix = union(tables)
    stacks_in_order = [merged.stack(row) for row in range(len(merged))]
    assert stacks_in_order == sorted(set().union(*mappings))
    for column, mapping in enumerate(mappings):
        assert {
            stack: int(matrix[row, column])
            for row, stack in enumerate(stacks_in_order)
            if stack in mapping
        } == mapping
        assert int(matrix[:, column].sum()) == sum(mapping.values())
    total = Counter()
    for mapping in mappings:
        total.update(mapping)
    assert {stack: count for stack, count in merged.to_counts().items() if count} == {
        stack: count for stack, count in total.items() if count
    }


def test_a_profile_read_from_columns_equals_one_read_from_a_mapping():
    mapping = {("main", "a"): 3, (): 2, ("main",): 1}
    columns = Profile.from_table(StackTable.from_counts(mapping))
    assert columns.total == 6
    assert len(columns) == 3
    assert columns == Profile(mapping)
    assert dict(columns.counts) == mapping


@given(st.lists(counts, min_size=1, max_size=4))
def test_merging_runs_in_columns_sums_them(mappings):
    from_columns = merge(Profile.from_table(StackTable.from_counts(m)) for m in mappings)
    from_mappings = merge(Profile(m) for m in mappings)

    def positive(profile):
        return {stack: count for stack, count in profile.counts.items() if count}

    assert positive(from_columns) == positive(from_mappings)
