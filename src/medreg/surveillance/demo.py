"""A seeded generator of MADE-UP but clinically plausible implant procedures (demo and tests only).

Nothing here describes a real patient, hospital or product: hospitals are "DEMO" sites, GTINs are
made up (prefix 0699, GS1 mod-10 check digit so that they parse as valid UDIs), pseudonyms are random.

Model (per procedure; all parameters below are assumptions of the demo, not estimates from data):

* Two device groups. Coronary stents (outcome: target-lesion failure within 180 days) with four
  devices; TAVR valves (outcome: death within 30 days) with three devices, one of them with an
  animal-derived (bovine pericardium) leaflet.
* Patients: age ~ Normal(66, 10) for stents, Normal(80, 6) for TAVR, clipped to 30-95; male 68 % / 50 %;
  diabetes 30 %; renal failure 10 %; prior myocardial infarction 25 % / 15 %; ejection fraction
  ~ Normal(55, 10) clipped to 15-80, missing for 5 %.
* Outcome risk: ``logit p = b0 + 0.03 (age - 66) + 0.5 diabetes + 0.7 renal + 0.3 prior_MI
  - 0.02 (EF - 55) + 0.1 male`` with ``b0`` giving about 4 % (stents) and 3 % (TAVR); the outcome
  date is uniform in the window. Death within a year (any cause) is generated as well, for the
  competing-risk analysis.
* **One planted device**: the last stent (``PLANTED_DI``) multiplies the odds of target-lesion failure
  by ``planted_odds_ratio`` (default 2.5). The monitoring must catch it; the others are in control.
* Follow-up: to the data cut-off, except 3 % lost early (10-150 days after the procedure).
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass
from datetime import date, timedelta

import numpy as np

from medreg.surveillance.importer import COLUMNS

__all__ = ["DEVICES", "PLANTED_DI", "DemoRegistry", "generate", "gtin14", "to_csv"]


def gtin14(body13: str) -> str:
    """GTIN-14 with the GS1 mod-10 check digit (weights 3, 1, 3, ... from the right)."""
    total = sum(int(d) * (3 if i % 2 == 0 else 1) for i, d in enumerate(reversed(body13)))
    return body13 + str((10 - total % 10) % 10)


# (device group, DI, demo name, share of the group's procedures)
DEVICES = (
    ("coronary_stent", gtin14("0699100000001"), "DEMO drug-eluting stent A", 0.35),
    ("coronary_stent", gtin14("0699100000002"), "DEMO drug-eluting stent B", 0.30),
    ("coronary_stent", gtin14("0699100000003"), "DEMO bioresorbable-polymer stent C", 0.20),
    ("coronary_stent", gtin14("0699100000004"), "DEMO stent D (planted excess risk)", 0.15),
    ("tavr_valve", gtin14("0699200000001"), "DEMO TAVR valve E (bovine pericardium leaflets)", 0.45),
    ("tavr_valve", gtin14("0699200000002"), "DEMO TAVR valve F (porcine pericardium leaflets)", 0.35),
    ("tavr_valve", gtin14("0699200000003"), "DEMO TAVR valve G", 0.20),
)
PLANTED_DI = DEVICES[3][1]
GROUPS = {
    "coronary_stent": ("target_lesion_failure", 180, -3.35, 66, 0.68, 0.25, 0.75),
    "tavr_valve": ("death", 30, -3.6, 80, 0.50, 0.15, 0.25),
}
HOSPITALS = tuple(f"DEMO-H{i:02d}" for i in range(1, 7))


@dataclass(frozen=True)
class DemoRegistry:
    rows_by_hospital: dict[str, list[dict]]
    start: date
    reference_end: date
    cutoff: date

    @property
    def n(self) -> int:
        return sum(len(r) for r in self.rows_by_hospital.values())


def _patients(rng, n: int, group: str) -> dict[str, np.ndarray]:
    _, _, _, mean_age, male, prior_mi, _ = GROUPS[group]
    ef = np.clip(rng.normal(55, 10, n), 15, 80).round()
    return {
        "age": np.clip(rng.normal(mean_age, 10 if group == "coronary_stent" else 6, n), 30, 95).round(),
        "male": rng.random(n) < male,
        "diabetes": rng.random(n) < 0.30,
        "renal": rng.random(n) < 0.10,
        "prior_mi": rng.random(n) < prior_mi,
        "ef": np.where(rng.random(n) < 0.05, np.nan, ef),
    }


def generate(
    seed: int = 2025,
    n_procedures: int = 6000,
    *,
    planted_odds_ratio: float = 2.5,
    start: date = date(2024, 1, 1),
    reference_end: date = date(2024, 12, 31),
    end: date = date(2025, 12, 31),
    cutoff: date = date(2026, 6, 30),
) -> DemoRegistry:
    """Made-up procedures spread over sentinel sites, as registry rows (dicts with ``COLUMNS``)."""
    rng = np.random.default_rng(seed)
    span = (end - start).days
    out: dict[str, list[dict]] = {h: [] for h in HOSPITALS}
    for group, (outcome, window, b0, mean_age, _, _, share) in GROUPS.items():
        n = int(round(n_procedures * share))
        devs = [d for d in DEVICES if d[0] == group]
        which = rng.choice(len(devs), size=n, p=[d[3] for d in devs])
        p = _patients(rng, n, group)
        ef = np.nan_to_num(p["ef"], nan=55.0)
        eta = (
            b0
            + 0.03 * (p["age"] - mean_age)
            + 0.5 * p["diabetes"]
            + 0.7 * p["renal"]
            + 0.3 * p["prior_mi"]
            - 0.02 * (ef - 55)
            + 0.1 * p["male"]
        )
        eta = eta + np.log(planted_odds_ratio) * np.array([devs[i][1] == PLANTED_DI for i in which])
        days = rng.integers(0, span + 1, n)
        has_event = rng.random(n) < 1 / (1 + np.exp(-eta))
        event_after = rng.integers(1, window + 1, n)
        death_after = np.where(rng.random(n) < 1 / (1 + np.exp(-(eta - 0.3))), rng.integers(1, 366, n), -1)
        lost = rng.random(n) < 0.03
        site = rng.integers(0, len(HOSPITALS), n)
        for i in range(n):
            proc = start + timedelta(days=int(days[i]))
            fu = min(proc + timedelta(days=int(rng.integers(10, 151))) if lost[i] else cutoff, cutoff)
            row = {c: "" for c in COLUMNS}
            row.update(
                patient_pseudonym=f"P{seed % 1000:03d}-{group[:4]}-{i:06d}",
                procedure_date=proc.isoformat(),
                device_group=group,
                udi=f"(01){devs[which[i]][1]}(17){(proc + timedelta(days=900)):%y%m%d}"
                f"(10)L{proc:%y%m}{which[i]}",
                age=str(int(p["age"][i])),
                sex="M" if p["male"][i] else "F",
                diabetes=str(int(p["diabetes"][i])),
                renal_failure=str(int(p["renal"][i])),
                prior_mi=str(int(p["prior_mi"][i])),
                follow_up_end=fu.isoformat(),
                ejection_fraction="" if np.isnan(p["ef"][i]) else str(int(p["ef"][i])),
            )
            when = proc + timedelta(days=int(event_after[i]))
            if has_event[i] and when <= fu:
                row[f"{outcome}_date"] = when.isoformat()
            if outcome != "death" and death_after[i] > 0 and proc + timedelta(days=int(death_after[i])) <= fu:
                row["death_date"] = (proc + timedelta(days=int(death_after[i]))).isoformat()
            if row["death_date"]:
                fu_death = date.fromisoformat(row["death_date"])
                row["follow_up_end"] = fu_death.isoformat()
                for k in COLUMNS:
                    if (
                        k.endswith("_date")
                        and k != "death_date"
                        and row[k]
                        and date.fromisoformat(row[k]) > fu_death
                    ):
                        row[k] = ""
            out[HOSPITALS[site[i]]].append(row)
    return DemoRegistry(out, start, reference_end, cutoff)


def to_csv(rows: list[dict]) -> str:
    buf = io.StringIO()
    writer = csv.DictWriter(buf, fieldnames=list(COLUMNS), lineterminator="\n")
    writer.writeheader()
    writer.writerows(rows)
    return buf.getvalue()
