"""HTML pages of the catalog domain (Jinja2 + HTMX, zh_CN/en): catalogue search, the classification
form with the engine's trace, the generic-name check. Thin: the same query calls as the API."""

from __future__ import annotations

from fastapi import Depends, Query, Request
from pydantic import ValidationError
from sqlalchemy.orm import Session

from medreg.catalog import queries
from medreg.catalog.schemas import USE_FORMS, DeviceDescription
from medreg.core.deps import get_session, pages_router
from medreg.core.errors import DomainError
from medreg.core.i18n import _
from medreg.core.templating import register_nav, render

router = pages_router(prefix="/catalog", tags=["catalog pages"])
Db = Depends(get_session)

register_nav("/catalog/", _("Classification catalogue"), description=_(
    "Search the 医疗器械分类目录 in Chinese, pinyin or English; browse its tree"), order=40)
register_nav("/catalog/classify", _("Classification"), description=_(
    "Describe a device and see its class with every rule that fired"), order=41)
register_nav("/catalog/naming", _("Generic names"), description=_(
    "Check a generic name against Order 19 and the naming guidelines"), order=42)

CHOICES = {
    "structure": ("active", "passive"), "contact": ("contact", "non_contact"), "use_form": tuple(USE_FORMS),
    "duration": ("transient", "short", "long"),
    "contact_site": ("skin_orifice", "wound_tissue", "circulation_cns"),
    "effect_on_outcome": ("none", "slight", "important"),
    "harm_if_out_of_control": ("slight", "moderate", "severe"),
}
# Labels of the form's fields and values, and of the result's words (translated where shown).
LABELS = {
    "structure": _("Structure (Art.5(1))"), "contact": _("Body contact (Art.5(2))"),
    "use_form": _("Use form (Art.5(3))"), "duration": _("Duration of use (Art.3(8))"),
    "duration_hours": _("Continuous use in hours"), "contact_site": _("Contact site (Art.5(4))"),
    "effect_on_outcome": _("Effect on the medical outcome (Art.5(4))"),
    "harm_if_out_of_control": _("Harm if out of control (Art.5(4))"),
    "active": _("active"), "passive": _("passive"), "non_contact": _("non-contacting"),
    "contact_value": _("contacting"), "transient": _("transient (< 24 h)"),
    "short": _("short-term (24 h to < 30 days)"), "long": _("long-term (30 days or more)"),
    "skin_orifice": _("skin or body orifice"), "wound_tissue": _("wound or tissue"),
    "circulation_cns": _("circulatory or central nervous system"), "none": _("basically none"),
    "slight": _("slight"), "important": _("important"), "moderate": _("moderate"), "severe": _("severe"),
    "absorbable": _("Absorbable by the body"),
    "drug_device_combination_device_primary": _("Drug-device combination, device action primary"),
    "animal_or_biological_material": _("Contains animal or biological material"),
    "sterile": _("Supplied sterile"), "measuring": _("Has a measuring function"),
    "treats_disease": _("Intended to treat a disease"), "endoscopic": _("Used under an endoscope"),
    "active_force_orthosis": _("Orthosis applying an active, sustained force"),
    "ivd_reagent": _("IVD reagent"), "ai": _("Uses artificial intelligence"),
    "robot": _("A medical robot (surgical, rehabilitation, …)"),
    "large_model": _("A medical large model"),
    "device_data": _("Processes medical-device data"),
    "core_function_processing": _("Core function: processing, measurement, model computation, analysis"),
    "medical_purpose": _("For a medical purpose"), "decision_support": _("Decision support (辅助决策)"),
    "algorithm_maturity": _("Algorithm maturity"), "low": _("low"), "high": _("high"), "medium": _("medium"),
    "determined": _("determined"), "lower_bound": _("lower bound only"), "undetermined": _("undetermined"),
    "not_medical_device": _("not a medical device"), "out_of_scope": _("out of scope (IVD reagent)"),
    "catalogue": _("catalogue row"), "rule_article": _("rule article"), "guideline": _("guideline"),
    "pass": _("Pass"), "warn": _("Pass with warnings"), "fail": _("Fail"), "error": _("error"),
    "warning": _("warning"), "info": _("information"),
    # effects of a trace row (engine_rules.json "effect.kind", and the rows engine.py adds)
    "exactly": _("sets the class"), "at_least": _("class not lower than"),
    "at_least_field": _("not lower than the related device"),
    "same_as_field": _("class of the related device"),
    "max_of_field": _("class of the highest-risk component"),
    "defer_to_catalogue": _("follows the catalogue"),
    "not_device": _("not a medical device"), "no_rule": _("no rule in this rule set"),
    "subcatalogue_evidence": _("evidence for a sub-catalogue"),
}
FLAGS = ("absorbable", "drug_device_combination_device_primary", "animal_or_biological_material", "sterile",
         "measuring", "treats_disease", "endoscopic", "active_force_orthosis", "ivd_reagent", "robot")
SOFTWARE_FLAGS = ("ai", "device_data", "core_function_processing", "medical_purpose", "decision_support",
                  "large_model")
TEXTS = ("name", "description", "intended_use", "catalogue_code")


def _context(**extra) -> dict:
    return {"choices": CHOICES, "use_forms": USE_FORMS, "flags": FLAGS, "software_flags": SOFTWARE_FLAGS,
            "labels": LABELS, **extra}


@router.get("/")
def search_page(request: Request, q: str = Query("", max_length=200), session: Session = Db):
    body = queries.search_entries(session, q, 20) if q.strip() else None
    name = "catalog/_results.html" if request.headers.get("hx-request") else "catalog/search.html"
    return render(request, name, {"q": q, "body": body,
                                  "tree": None if q.strip() else queries.tree(session)})


@router.get("/classify")
def classify_form(request: Request):
    return render(request, "catalog/classify.html", _context(form={}, result=None, errors=[]))


def _facts(form) -> dict:
    facts: dict = {k: form.get(k) or None for k in (*TEXTS, *CHOICES)}
    if form.get("duration_hours"):
        facts["duration_hours"] = form.get("duration_hours")
    facts.update({k: form.get(k) == "on" for k in FLAGS})
    software = {k: form.get(f"software_{k}") == "on" for k in SOFTWARE_FLAGS}
    software["algorithm_maturity"] = form.get("software_algorithm_maturity") or None
    facts["software"] = software
    return facts


@router.post("/classify")
async def classify_submit(request: Request, session: Session = Db):
    form = await request.form()
    hx = bool(request.headers.get("hx-request"))
    try:
        facts = DeviceDescription.model_validate(_facts(form)).model_dump()
    except ValidationError as exc:
        errors = [{"field": ".".join(str(p) for p in e["loc"]), "reason": e["msg"]} for e in exc.errors()]
        name = "catalog/_determination.html" if hx else "catalog/classify.html"
        return render(request, name, _context(form=form, result=None, errors=errors), status_code=422)
    name = "catalog/_determination.html" if hx else "catalog/classify.html"
    try:
        result = queries.determine(session, facts)
    except DomainError as err:
        errors = [{"field": err.field, "reason": err.template}]
        return render(request, name, _context(form=form, result=None, errors=errors),
                      status_code=err.http_status)
    return render(request, name, _context(form=form, result=result, errors=[], facts=facts))


@router.get("/naming")
def naming_form(request: Request):
    return render(request, "catalog/naming.html",
                  {"name": "", "report": None, "error": None, "labels": LABELS})


@router.post("/naming")
async def naming_submit(request: Request):
    form = await request.form()
    name = str(form.get("name") or "").strip()
    hx = bool(request.headers.get("hx-request"))
    template = "catalog/_naming.html" if hx else "catalog/naming.html"
    if not name or len(name) > 200:
        return render(request, template, {"name": name, "report": None, "labels": LABELS,
                                          "error": _("Give a name of 1 to 200 characters.")}, status_code=422)
    return render(request, template, {"name": name, "report": queries.check_name(name), "error": None,
                                      "labels": LABELS})
