"""Reusable Hypothesis strategies for the election core."""

from __future__ import annotations

from hypothesis import strategies as st

from election.group import L, Scalar

scalars = st.integers(min_value=0, max_value=L - 1).map(Scalar.from_int)
nonzero_scalars = st.integers(min_value=1, max_value=L - 1).map(Scalar.from_int)
seeds = st.binary(min_size=32, max_size=32)
