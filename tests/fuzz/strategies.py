"""Shared hypothesis strategies: any JSON, and JSON objects shaped like the thing under test."""

from __future__ import annotations

from typing import Any

from hypothesis import strategies as st

scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(2**63), max_value=2**64),
    st.floats(allow_nan=False, allow_infinity=False),  # json.dumps writes NaN/Infinity, which are not JSON
    st.text(max_size=30),
)

json_values: st.SearchStrategy[Any] = st.recursive(
    scalars,
    lambda children: st.one_of(
        st.lists(children, max_size=5), st.dictionaries(st.text(max_size=12), children, max_size=5)
    ),
    max_leaves=8,
)


def objects_with(keys: list[str], values: st.SearchStrategy[Any] = json_values) -> st.SearchStrategy[dict[str, Any]]:
    """Objects whose keys are mostly the expected ones (so validation gets past the first field),
    with any values, sometimes plus a stray key."""
    return st.dictionaries(st.one_of(st.sampled_from(keys), st.text(max_size=12)), values, max_size=len(keys) + 2)
