"""Cluster alerts (pure): several events with the same device lot in a short window.

Order 1 Art.4(四) defines a 群体医疗器械不良事件 as events with the same device,
"在相对集中的时间、区域内发生", harming or threatening "一定数量人群".
The Order gives no number of events or days, so both are parameters (defaults: 3 events within
7 days, same certificate and lot, optionally the same province); an alert asks a person to decide
whether Art.31 applies, it does not decide it.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date


@dataclass(frozen=True)
class Event:
    id: int
    event_date: date
    device: str  # registration certificate number (or UDI-DI)
    lot: str
    province: str | None = None


@dataclass(frozen=True)
class ClusterAlert:
    device: str
    lot: str
    province: str | None
    case_ids: tuple[int, ...]
    first_date: date
    last_date: date

    @property
    def count(self) -> int:
        return len(self.case_ids)


def detect(
    events: Iterable[Event], *, min_events: int = 3, window_days: int = 7, by_province: bool = False
) -> list[ClusterAlert]:
    """Alerts for (device, lot[, province]) groups: every window of ``window_days`` (from each event on)
    holding at least ``min_events`` events raises one; overlapping windows merge into one alert."""
    if min_events < 2 or window_days < 0:
        raise ValueError("min_events must be >= 2 and window_days >= 0")
    groups: dict[tuple, list[Event]] = defaultdict(list)
    for e in events:
        if e.device and e.lot:
            groups[(e.device.strip(), e.lot.strip(), e.province if by_province else None)].append(e)
    alerts = []
    for (device, lot, province), members in sorted(groups.items(), key=lambda kv: str(kv[0])):
        members.sort(key=lambda e: (e.event_date, e.id))
        current: list[Event] = []
        end = 0
        for i, first in enumerate(members):
            while end < len(members) and (members[end].event_date - first.event_date).days <= window_days:
                end += 1
            window = members[i:end]
            if len(window) >= min_events:
                if current and window[0].event_date <= current[-1].event_date:
                    current = sorted({*current, *window}, key=lambda e: (e.event_date, e.id))
                else:
                    if current:
                        alerts.append(_alert(device, lot, province, current))
                    current = list(window)
        if current:
            alerts.append(_alert(device, lot, province, current))
    return alerts


def _alert(device: str, lot: str, province: str | None, run: list[Event]) -> ClusterAlert:
    return ClusterAlert(
        device, lot, province, tuple(e.id for e in run), run[0].event_date, run[-1].event_date
    )
