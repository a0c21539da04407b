"""Vocabularies of the surveillance registry (pure): device groups and outcomes."""

from __future__ import annotations

import enum


class DeviceGroup(enum.StrEnum):
    """Device groups of the high-risk cardiovascular implants under active monitoring (issue scope)."""

    CORONARY_STENT = "coronary_stent"
    TAVR_VALVE = "tavr_valve"
    OCCLUDER = "occluder"
    PACEMAKER_ICD = "pacemaker_icd"
    VASCULAR_GRAFT = "vascular_graft"
    NITI_ENDOVASCULAR = "niti_endovascular"


class OutcomeKind(enum.StrEnum):
    DEATH = "death"
    TARGET_LESION_FAILURE = "target_lesion_failure"
    STENT_THROMBOSIS = "stent_thrombosis"
    VALVE_DYSFUNCTION = "valve_dysfunction"
    REINTERVENTION = "reintervention"
    MAJOR_BLEEDING = "major_bleeding"
