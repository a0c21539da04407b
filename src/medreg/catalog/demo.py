"""Demo data of the catalog domain, loaded by ``medreg demo load`` (idempotent): the shipped catalogue
version (sub-catalogues 01 and 04), two MADE-UP reviewer decisions on FDA crosswalk candidates (one
confirmed, one rejected) and three MADE-UP 分类界定 requests in different states (submitted, decided,
published) with their statutory clocks. The product descriptions are invented for the demo; the engine's
opinions and the decisions are computed and signed through the ordinary services, so the audit
trail is real."""

from __future__ import annotations

from datetime import date, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from medreg.catalog import service, service_requests
from medreg.catalog.models import CatalogCrosswalkLink, CatalogDeterminationRequest
from medreg.catalog.schemas import DeviceDescription
from medreg.core.actor import Actor

MARK = "（演示，虚构）"  # every demo request's product name ends with this: made up


def _facts(name: str, **facts) -> dict:
    return DeviceDescription(name=name + MARK, **facts).model_dump()


def demo_requests() -> list[tuple[str, dict, str]]:
    """(registrant username, description, the state to bring it to). Made-up products."""
    return [
        ("registrant", _facts("腹腔内窥镜手术控制系统", intended_use="用于腔内手术中帮助精确控制手术操作。",
                              structure="active", contact="contact", use_form="other_active_contact",
                              effect_on_outcome="important"), "submitted"),
        ("registrant2", _facts("肺结节CT影像辅助检测软件",
                               intended_use="用于胸部CT影像肺结节的识别与提示，供医生参考。",
                               structure="active", contact="non_contact", use_form="standalone_software",
                               software={"ai": True, "device_data": True, "core_function_processing": True,
                                         "medical_purpose": True, "decision_support": True,
                                         "algorithm_maturity": "low"}), "decided"),
        ("registrant", _facts("聚醚醚酮带线锚钉", intended_use="用于软组织与骨的固定。", structure="passive",
                              contact="contact", use_form="implant", duration_hours=8760,
                              contact_site="wound_tissue", sterile=True), "published"),
    ]


DECISIONS = {  # made-up reasons of the demo reviewer
    "decided": ("III", "人工智能医用软件产品分类界定指导原则（2021年第47号）：算法成熟度低、用于辅助决策，"
                       "按第三类管理。（演示）"),
    "published": ("III", "植入人体、长期使用的无源植入器械；参照医疗器械分类目录 13 无源植入器械。（演示）"),
}


# made-up reviewer decisions on two automatic crosswalk candidates (audited like real ones)
DEMO_LINKS = [("04-09-01", "DZH", "confirmed", "演示：电动骨锯对应 Saw, Bone, Ac-Powered。"),
              ("01-07-03", "FSW", "rejected", "演示：手术照明灯不是手术控制系统。")]


def _load_links(session: Session, reviewer) -> None:
    for code, product_code, decision, note in DEMO_LINKS:
        exists = session.scalar(select(CatalogCrosswalkLink.id).where(
            CatalogCrosswalkLink.category2_code == code, CatalogCrosswalkLink.product_code == product_code))
        if exists is None:
            service.decide_link(session, reviewer, code, product_code, decision, note)


def loaded(session: Session) -> bool:
    return session.scalar(select(CatalogDeterminationRequest.id).where(
        CatalogDeterminationRequest.product_name.endswith(MARK)).limit(1)) is not None


def load(session: Session, actor_of, password: str, today: date) -> None:
    """Store the shipped catalogue version (once) and the made-up requests (once).
    ``actor_of(username)`` gives the demo accounts; ``password`` signs the demo decisions."""
    service.load_shipped(session, Actor.system())
    reviewer = actor_of("office")
    _load_links(session, reviewer)
    if loaded(session):
        return
    for i, (username, facts, state) in enumerate(demo_requests()):
        asked = today - timedelta(days=14 - 4 * i)
        req = service_requests.submit(session, actor_of(username), facts, asked)
        if state == "submitted":
            continue
        decided_class, reason = DECISIONS[state]
        service_requests.decide(session, reviewer, req.id, decided_class=decided_class, reason=reason,
                                password=password, expected_version=req.version, today=today)
        if state == "published":
            session.flush()
            service_requests.act(session, reviewer, req.id, "publish", req.version, today)

