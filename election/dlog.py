"""Discrete logarithms of small multiples of G (decrypted counts), by baby-step giant-step.

A table of j*G for 0 <= j < m (encodings -> j) is built once; log(P) steps P - i*m*G until it hits the table.
With the default m = 2048 the table costs 2048 additions and a count up to 2,000,000 needs at most 977
giant steps, so every tally of a national election is decoded in milliseconds.
"""

from __future__ import annotations

from functools import lru_cache
from typing import Final

from election.group import IDENTITY, G, GroupElement, Scalar, base_mul, point_add

DEFAULT_MAX: Final = 2_000_000
DEFAULT_BABY_STEPS: Final = 2048


class DiscreteLogError(ValueError):
    """The element is not m*G for any 0 <= m <= the configured maximum."""


class DiscreteLog:
    def __init__(self, max_value: int = DEFAULT_MAX, baby_steps: int = DEFAULT_BABY_STEPS) -> None:
        if max_value < 0 or baby_steps < 1:
            raise ValueError("max_value must be >= 0 and baby_steps >= 1")
        self.max_value = max_value
        self._m = baby_steps
        table: dict[bytes, int] = {}
        point, g = IDENTITY.data, G.data
        for j in range(baby_steps):
            table[point] = j
            point = point_add(point, g)
        self._table = table
        self._giant = (-base_mul(Scalar.from_int(baby_steps))).data

    def log(self, element: GroupElement) -> int:
        point, table, giant = element.data, self._table, self._giant
        for i in range(self.max_value // self._m + 1):
            j = table.get(point)
            if j is not None:
                value = i * self._m + j
                if value > self.max_value:
                    break
                return value
            point = point_add(point, giant)
        raise DiscreteLogError(f"not a multiple of G in [0, {self.max_value}]")


@lru_cache(maxsize=4)
def shared_discrete_log(max_value: int = DEFAULT_MAX, baby_steps: int = DEFAULT_BABY_STEPS) -> DiscreteLog:
    """One table per parameter set for the whole process (it is read-only once built)."""
    return DiscreteLog(max_value, baby_steps)
