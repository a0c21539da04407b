"""The catalog's demo data: the shipped catalogue as a stored version and three made-up 分类界定 requests
in different states, loaded through the services, twice without harm."""

from __future__ import annotations

from datetime import date

from sqlalchemy import func, select

from medreg import demo
from medreg.catalog import demo as catalog_demo
from medreg.catalog import service_requests as svc
from medreg.catalog.models import CatalogCrosswalkLink, CatalogDeterminationRequest, CatalogVersion
from medreg.core import audit
from medreg.core.audit import AuditEvent


def test_catalog_demo_loads_twice(db):
    demo.load_accounts(db)
    today = date(2026, 11, 30)
    def load_and_count() -> list[int]:
        catalog_demo.load(db, lambda u: demo.demo_actor(db, u), demo.DEMO_PASSWORD, today)
        return [db.scalar(select(func.count()).select_from(t))
                for t in (CatalogVersion, CatalogDeterminationRequest, AuditEvent)]

    first = load_and_count()
    assert load_and_count() == first and first[:2] == [1, 3]
    reqs = db.scalars(select(CatalogDeterminationRequest).order_by(CatalogDeterminationRequest.id)).all()
    assert [r.status for r in reqs] == ["submitted", "decided", "published"]
    assert all(r.product_name.endswith(catalog_demo.MARK) for r in reqs)  # labelled made up
    assert [r.engine_opinion["management_class"] for r in reqs] == ["III", "III", "II"]
    assert reqs[2].published_on == today and reqs[1].signature_id is not None
    assert reqs[0].submitted_on == date(2026, 11, 16)
    links = {(x.category2_code, x.product_code): x.status for x in db.scalars(select(CatalogCrosswalkLink))}
    assert links == {("04-09-01", "DZH"): "confirmed", ("01-07-03", "FSW"): "rejected"}
    assert svc.clock_dict(db, reqs[0], today)["due_on"] == "2026-12-14"  # 16 Nov + 20 working days
    assert svc.clock_dict(db, reqs[1], today)["stopped_on"] == today.isoformat()
    assert not audit.verify(db)
