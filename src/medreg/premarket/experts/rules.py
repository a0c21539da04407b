"""Pure rules of the expert pool (专家库): who may review an innovative application.

CMDE Notice 2025 No.7 ("CMDE"): Art.9 sets the conditions an expert must meet, Art.10 the
situations that keep an expert out of the selection, Art.11 the duty to avoid (回避).
No database, no clock: ``today`` is passed in.
"""

from __future__ import annotations

import enum
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date

# CMDE Art.9(5): under 65 years old; senior experts and academicians are exempt.
MAX_AGE_EXCLUSIVE = 65
# CMDE Art.8 and Art.17: a group with a leader who combines the members' opinions; the office
# needs at least three experts for a group opinion (our policy, the text sets no number).
MIN_EXPERTS = 3


class InterestKind(enum.StrEnum):
    EMPLOYMENT = "employment"  # CMDE Art.10(1)(4)
    CONSULTING = "consulting"  # CMDE Art.10(4) 含顾问, 有偿咨询
    RESEARCH_COLLABORATION = "research_collaboration"  # CMDE Art.10(1) 曾参与研发
    GIFT = "gift"  # CMDE Art.10(2) 曾接受馈赠
    PATENT = "patent"  # CMDE Art.10(1)(3) 利益一致性 (e.g. co-inventor, IP seller)
    SHAREHOLDING = "shareholding"  # CMDE Art.10(3)
    OTHER = "other"  # CMDE Art.10(8)


# Kinds that disqualify even after they ended: the text says "曾" (ever).
_EVER = {InterestKind.RESEARCH_COLLABORATION: "CMDE Art.10(1)", InterestKind.GIFT: "CMDE Art.10(2)"}
_ARTICLE = {
    InterestKind.EMPLOYMENT: "CMDE Art.10(1),(4)",
    InterestKind.CONSULTING: "CMDE Art.10(4)",
    InterestKind.PATENT: "CMDE Art.10(1),(3)",
    InterestKind.SHAREHOLDING: "CMDE Art.10(3)",
    InterestKind.OTHER: "CMDE Art.10(8)",
    **_EVER,
}


@dataclass(frozen=True)
class ExpertProfile:
    id: int
    name: str
    organisation_id: int | None
    organisation_name: str | None
    senior_title: bool
    birth_year: int
    age_exempt: bool
    active: bool
    fields: tuple[str, ...] = ()


@dataclass(frozen=True)
class Interest:
    organisation_id: int
    kind: str
    description: str = ""
    since: date | None = None
    until: date | None = None


@dataclass(frozen=True)
class Conflict:
    reason: str
    article: str


@dataclass(frozen=True)
class Fit:
    """Whether an expert meets the conditions of CMDE Art.9 for one application."""

    problems: tuple[Conflict, ...] = field(default_factory=tuple)

    @property
    def eligible(self) -> bool:
        return not self.problems


def _norm(text: str | None) -> str:
    return "".join((text or "").split()).casefold()


def _current(interest: Interest, today: date) -> bool:
    started = interest.since is None or interest.since <= today
    return started and (interest.until is None or interest.until >= today)


def conflicts(
    expert: ExpertProfile,
    applicant_org_id: int,
    declared_interests: Iterable[Interest],
    avoidance_list: Iterable[str],
    today: date,
) -> list[Conflict]:
    """Every reason this expert must not review the applicant's file (empty list: none).

    - the expert works for the applicant itself (CMDE Art.10(1),(3): 利益一致性 / 利益冲突);
    - a declared interest in the applicant: current ones, and past research collaboration or
      gifts, which the text disqualifies forever ("曾", CMDE Art.10(1),(2));
    - the applicant named the expert (or its organisation) in its avoidance request
      (CMDE Art.7(13)2, Art.11).
    """
    out: list[Conflict] = []
    if expert.organisation_id is not None and expert.organisation_id == applicant_org_id:
        out.append(
            Conflict("the expert belongs to the applicant's own organisation", "CMDE Art.10(1),(3); Art.11")
        )
    for i in declared_interests:
        if i.organisation_id != applicant_org_id:
            continue
        kind = InterestKind(i.kind) if i.kind in set(InterestKind) else InterestKind.OTHER
        if kind in _EVER or _current(i, today):
            when = f" since {i.since.isoformat()}" if i.since else ""
            until = f" until {i.until.isoformat()}" if i.until else ""
            detail = f": {i.description}" if i.description else ""
            out.append(
                Conflict(
                    f"declared {kind.value} interest in the applicant{when}{until}{detail}",
                    _ARTICLE[kind] + "; Art.11",
                )
            )
    name, org = _norm(expert.name), _norm(expert.organisation_name)
    for entry in avoidance_list:
        e = _norm(entry)
        if not e:
            continue
        if name and name in e:
            out.append(
                Conflict(
                    f"the applicant asked that this expert be avoided: '{entry.strip()}'",
                    "CMDE Art.7(13)2; Art.11",
                )
            )
        elif org and org in e:
            out.append(
                Conflict(
                    f"the applicant asked that experts of {expert.organisation_name} be "
                    f"avoided: '{entry.strip()}'",
                    "CMDE Art.7(13)2; Art.11",
                )
            )
    return out


def age_on(birth_year: int, today: date) -> int:
    """Age reached in the current year (only the birth year is kept, CMDE Art.9(5))."""
    return today.year - birth_year


def fitness(expert: ExpertProfile, field_of_application: str | None, today: date) -> Fit:
    """The conditions of CMDE Art.9 an expert fails for an application in ``field_of_application``."""
    problems: list[Conflict] = []
    if not expert.active:
        problems.append(Conflict("the expert is not active in the pool", "CMDE Art.9(4); Art.10(7)"))
    if not expert.senior_title:
        problems.append(Conflict("a senior professional title is required", "CMDE Art.9(2)"))
    age = age_on(expert.birth_year, today)
    if age >= MAX_AGE_EXCLUSIVE and not expert.age_exempt:
        problems.append(
            Conflict(
                f"aged {age}: experts must be under {MAX_AGE_EXCLUSIVE} unless "
                "senior experts or academicians",
                "CMDE Art.9(5)",
            )
        )
    wanted = _norm(field_of_application)
    if wanted and wanted not in {_norm(f) for f in expert.fields}:
        problems.append(
            Conflict(f"field '{field_of_application}' is not among the expert's fields", "CMDE Art.9(2)")
        )
    return Fit(tuple(problems))


def split_avoidance(text: str | None) -> list[str]:
    """The entries of a free-text avoidance request (CMDE Art.7(13)2), one per line or separator."""
    return [p.strip() for p in re.split(r"[\n;；,，、]+", text or "") if p.strip()]
