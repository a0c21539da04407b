"""Pydantic shapes of the classification and naming APIs (and the validation users see)."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

Class = Literal["I", "II", "III"]
# Use forms of 令第15号 第五条（三） (English keys; the Chinese names are in classification_axes.csv).
USE_FORMS = {
    "liquid_delivery": "液体输送器械", "blood_fluid_altering": "改变血液体液器械", "dressing": "医用敷料",
    "invasive": "侵入器械", "reusable_surgical": "重复使用手术器械", "implant": "植入器械",
    "contraception": "避孕和计划生育器械", "other_passive_contact": "其他无源接触人体器械",
    "nursing": "护理器械", "device_cleaning": "医疗器械清洗消毒器械",
    "other_passive_non_contact": "其他无源非接触人体器械", "energy_therapy": "能量治疗器械",
    "diagnosis_monitoring": "诊断监护器械", "ionising_radiation": "电离辐射器械",
    "other_active_contact": "其他有源接触人体器械", "ivd_instrument": "临床检验仪器设备",
    "standalone_software": "独立软件", "sterilisation_equipment": "医疗器械消毒灭菌设备",
    "other_active_non_contact": "其他有源非接触人体器械",
}
UseForm = Literal[tuple(USE_FORMS)]  # type: ignore[valid-type]


class Software(BaseModel):
    model_config = ConfigDict(extra="forbid")

    ai: bool = False
    large_model: bool = Field(False, description="a (medical) large model: rule set no63-large-model")
    device_data: bool | None = Field(None, description="input is medical-device data (No.47)")
    core_function_processing: bool | None = Field(
        None, description="core function: processing, measurement, model computation, analysis")
    medical_purpose: bool | None = None
    decision_support: bool | None = Field(None, description="辅助决策: lesion features, nature, treatment…")
    algorithm_maturity: Literal["low", "high"] | None = None
    disease_severity: Literal["mild", "moderate", "severe"] | None = None


class DeviceDescription(BaseModel):
    """A device as the registrant describes it: structured facts and free text."""

    model_config = ConfigDict(extra="forbid")

    name: str | None = Field(None, max_length=200)
    description: str | None = Field(None, max_length=5000)
    intended_use: str | None = Field(None, max_length=5000)
    catalogue_code: str | None = Field(None, pattern=r"^\d{2}-\d{2}-\d{2}$")
    structure: Literal["active", "passive"] | None = None
    contact: Literal["contact", "non_contact"] | None = None
    use_form: UseForm | None = None
    duration: Literal["transient", "short", "long"] | None = None
    duration_hours: float | None = Field(None, ge=0)
    contact_site: Literal["skin_orifice", "wound_tissue", "circulation_cns"] | None = None
    effect_on_outcome: Literal["none", "slight", "important"] | None = None
    harm_if_out_of_control: Literal["slight", "moderate", "severe"] | None = None
    absorbable: bool = False
    drug_device_combination_device_primary: bool = False
    animal_or_biological_material: bool = False
    sterile: bool = False
    measuring: bool = False
    treats_disease: bool = False
    endoscopic: bool = False
    active_force_orthosis: bool = False
    dressing_features: list[Literal["anti_adhesion", "artificial_skin", "deep_dermis_wound", "chronic_wound",
                                    "absorbable"]] = Field(default_factory=list)
    accessory_of_class: Class | None = None
    accessory_important_effect: bool = False
    monitors_device_class: Class | None = None
    kit_component_classes: list[Class] = Field(default_factory=list, max_length=100)
    ivd_reagent: bool = False
    robot: bool = Field(False, description="a medical robot (surgical, rehabilitation…): rule set "
                                           "no63-medical-robot")
    software: Software = Field(default_factory=Software)


def is_blank(facts: dict) -> bool:
    """Nothing to classify: no text, no code, no fact set (False and empty values are 'not set')."""
    values = [v for k, v in facts.items() if k != "software"] + list((facts.get("software") or {}).values())
    return all(v in (None, False, "", [], ()) for v in values)


class NameCheck(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str = Field(..., min_length=1, max_length=200)
