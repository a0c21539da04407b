"""Accuracy of classification by product name only, on the catalogue's own 品名举例 (pure).

For every example name of every row, the engine classifies ``{"name": example}`` and we check whether
the row's sub-catalogue and class are the first answer (top-1) or among the first three distinct
answers (the ranked sub-catalogue candidates of ``catalog.evidence``: catalogue rows, naming terms, FDA
product codes, sub-catalogue names; top-3). Two
settings:

- ``in_sample``: the whole catalogue is searchable (a look-up: the name is in it);
- ``leave_out``: every row listing that exact name is removed first, so the engine must infer from the
  *other* rows (the honest estimate for a product name the catalogue does not list).
"""

from __future__ import annotations

from dataclasses import dataclass

from medreg.catalog import classify, search
from medreg.catalog.catalogue import CatalogueEntry


@dataclass
class Accuracy:
    setting: str
    names: int
    sub_top1: float
    sub_top3: float
    class_top1: float
    class_top3: float
    undetermined: int

    def line(self) -> str:
        return (f"{self.setting}: {self.names} names; sub-catalogue top-1 {self.sub_top1:.1%}, "
                f"top-3 {self.sub_top3:.1%}; class top-1 {self.class_top1:.1%}, top-3 {self.class_top3:.1%}; "
                f"no class given {self.undetermined}")


def _distinct(values: list[str]) -> list[str]:
    out: list[str] = []
    for v in values:
        if v not in out:
            out.append(v)
    return out


def evaluate(entries: tuple[CatalogueEntry, ...], leave_out: bool) -> Accuracy:
    index = search.Index(entries)
    by_name: dict[str, set[str]] = {}
    for e in entries:
        for x in e.examples:
            by_name.setdefault(x, set()).add(e.key)
    n = s1 = s3 = c1 = c3 = undetermined = 0
    for e in entries:
        for name in e.examples:
            exclude = frozenset(by_name[name]) if leave_out else frozenset()
            d = classify.classify(index, {"name": name}, exclude)
            subs = [c["code"] for c in d.subcatalogue_candidates][:3]
            classes = _distinct([m["management_class"] for m in d.catalogue_matches])[:3]
            n += 1
            s1 += bool(subs) and subs[0] == e.subcatalogue_code
            s3 += e.subcatalogue_code in subs
            c1 += d.management_class == e.management_class
            c3 += e.management_class in classes or d.management_class == e.management_class
            undetermined += d.management_class is None
    return Accuracy("leave-out" if leave_out else "in-sample", n, s1 / n, s3 / n, c1 / n, c3 / n,
                    undetermined)
