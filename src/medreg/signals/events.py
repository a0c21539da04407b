"""Event level: an IMDRF code rolled up along its annex's term tree to level 1, 2 or 3. Pure.

The tree is passed in (any object with ``path(code)`` returning the terms from the level-1 ancestor
down, as ``medreg.vigilance.aet.Terminology`` does). A code at or above the requested level stays as it
is (a level-1 code counted at level 2 remains the level-1 heading); a code not in the tree is kept
unchanged, so that no report disappears from the counts.

>>> class Tree:
...     def path(self, code):
...         return [type("T", (), {"code": code[:n]})() for n in (3, 5, 7) if len(code) >= n]
>>> roll_up(["A040101", "A0401", "A04"], 2, Tree())
['A0401', 'A0401', 'A04']
"""

from __future__ import annotations

from collections.abc import Iterable

LEVELS = (1, 2, 3)


def roll_up(codes: Iterable[str], level: int, tree) -> list[str]:
    if level not in LEVELS:
        raise ValueError("level must be 1, 2 or 3")
    cache: dict[str, str] = {}
    out = []
    for code in codes:
        rolled = cache.get(code)
        if rolled is None:
            path = tree.path(code)
            rolled = path[min(level, len(path)) - 1].code if path else code
            cache[code] = rolled
        out.append(rolled)
    return out
