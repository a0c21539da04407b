"""The catalogue product category of a registration (Order 47 Art.20): validated on the application,
carried onto the certificate, changed by a change registration, kept by a renewal; the API and the form
answer a bad code with a 4xx naming the field.

Codes are real rows of the shipped 医疗器械分类目录 (src/medreg/data/nmpa-catalogue/catalogue.csv, from
2017 No.104 as adjusted by 2022 No.30): 01-07 手术导航、控制系统 with 01-07-01 手术导航系统 and 01-07-03
手术控制系统; 01-01 超声手术设备及附件; 04-01 骨科用刀. 01-99 and 01-07-09 are not in it. Sub-catalogue
12 has no shipped row, so its codes cannot be checked for existence.
"""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from medreg.catalog import catalogue
from medreg.catalog.models import CatalogEntry, CatalogVersion
from medreg.core import audit
from medreg.core.errors import ValidationFailed
from medreg.premarket.registration import queries, rules, service
from medreg.premarket.registration.models import RegistrationApplication
from medreg.premarket.registration.service_certificates import CERT_ENTITY
from tests.premarket.test_registration_world import build, initial, to_certificate, wd

ROBOT = {"subcatalogue_code": "01", "category1_code": "01-07", "category2_code": "01-07-03"}


@pytest.fixture
def w(db):
    return build(db)


@pytest.mark.parametrize(("sub", "c1", "c2", "field"), [
    ("01", "04-01", None, "category1_code"),  # 一级 of another sub-catalogue
    ("01", "01-01", "01-07-03", "category2_code"),  # 二级 under another 一级
    ("01", None, "01-07-03", "category1_code"),  # 二级 without its 一级
])
def test_the_rule_names_the_inconsistent_field(sub, c1, c2, field):
    with pytest.raises(ValidationFailed) as err:
        rules.check_category(sub, c1, c2)
    assert err.value.field == field
    rules.check_category("01", "01-07", "01-07-03")
    rules.check_category("12", None, None)  # optional: a new device not in the catalogue (Art.64)


@pytest.mark.parametrize(("over", "field", "why"), [
    ({"category1_code": "1-07"}, "category1_code", "pattern"),
    ({"category1_code": "01-07-03"}, "category1_code", "pattern"),
    ({"category1_code": "01-07", "category2_code": "01-0703"}, "category2_code", "pattern"),
    ({"category1_code": "０１-０７"}, "category1_code", "pattern"),  # full-width digits
    ({"category1_code": "04-01"}, "category1_code", "not in sub-catalogue"),
    ({"category1_code": "01-01", "category2_code": "01-07-03"}, "category2_code", "not under"),
    ({"category2_code": "01-07-03"}, "category1_code", "needs the 一级"),
    ({"category1_code": "01-99"}, "category1_code", "not in the catalogue"),
    ({"category1_code": "01-07", "category2_code": "01-07-09"}, "category2_code", "not in the catalogue"),
])
def test_bad_categories_are_refused_naming_the_field(db, w, over, field, why):
    before = db.scalar(select(func.count()).select_from(RegistrationApplication))
    with pytest.raises(ValidationFailed) as err:
        service.create_application(db, w.registrant, initial(subcatalogue_code="01", **over))
    assert err.value.field == field
    assert why in err.value.message or why in str(err.value.params), err.value.message
    assert db.scalar(select(func.count()).select_from(RegistrationApplication)) == before


def test_the_category_is_carried_onto_the_certificate_and_audited(db, w):
    app, cert = to_certificate(db, w, w.registrant, initial(**ROBOT))
    assert (app.category1_code, app.category2_code) == ("01-07", "01-07-03")
    assert (cert.category1_code, cert.category2_code) == ("01-07", "01-07-03")
    created = [e for e in audit.history(db, "registration_application", app.id) if e.action == "create"]
    assert created[0].after["category2_code"] == "01-07-03"
    issued = [e for e in audit.history(db, CERT_ENTITY, cert.id) if e.action == "issue_initial"]
    assert issued[0].after["category1_code"] == "01-07"
    read = queries.get_certificate(db, w.other, cert.id)  # public
    assert (read.category1_code, read.category2_code) == ("01-07", "01-07-03")
    assert queries.certificate_categories(db)[cert.number] == ("01-07", "01-07-03")


def test_a_sub_catalogue_the_catalogue_does_not_cover_is_checked_for_form_only(db, w):
    app = service.create_application(db, w.registrant, initial(category1_code="12-01"))
    assert app.category1_code == "12-01"  # 12 has no row here: the catalogue cannot tell
    _app, cert = to_certificate(db, w, w.registrant, initial(product_name="No category"))
    assert cert.category1_code is None and cert.number not in queries.certificate_categories(db)


def test_a_loaded_catalogue_version_is_the_one_asked(db, w):
    """A version in the database replaces the shipped rows: here one holding only the real 04 rows."""
    version = CatalogVersion(label="test 04 only", source_name="catalogue.csv (04 rows)", sha256="0" * 64,
                             rows=0, subcatalogues="04", is_current=True, imported_by="test")
    db.add(version)
    db.flush()
    rows = [e for e in catalogue.shipped_entries() if e.subcatalogue_code == "04"]
    db.add_all(CatalogEntry(version_id=version.id, row_no=e.row_no, subcatalogue_code="04",
                            subcatalogue_name=e.subcatalogue_name, category1_code=e.category1_code,
                            category1_name=e.category1_name, category2_code=e.category2_code,
                            category2_name=e.category2_name, description=e.description,
                            intended_use=e.intended_use, examples="、".join(e.examples),
                            management_class=e.management_class, source_section="", parse_note="")
               for e in rows)
    db.flush()
    assert service.create_application(db, w.registrant, initial(subcatalogue_code="01",
                                                                category1_code="01-99")).id  # not covered
    with pytest.raises(ValidationFailed) as err:
        service.create_application(db, w.registrant, initial(subcatalogue_code="04", category1_code="04-99"))
    assert err.value.field == "category1_code" and err.value.params["version"] == "test 04 only"
    assert service.create_application(db, w.registrant, initial(subcatalogue_code="04",
                                                                category1_code="04-01")).id


def test_editing_a_draft_keeps_the_category_consistent(db, w):
    app = service.create_application(db, w.registrant, initial(**ROBOT))
    with pytest.raises(ValidationFailed) as err:  # moving to 04 leaves 01-07 behind
        service.update_application(db, w.registrant, app.id, {"subcatalogue_code": "04"})
    assert err.value.field == "category1_code" and app.subcatalogue_code == "01"
    service.update_application(db, w.registrant, app.id, {"category2_code": "01-07-01"})
    assert app.category2_code == "01-07-01"
    edit = [e for e in audit.history(db, "registration_application", app.id) if e.action == "update"][-1]
    assert (edit.before["category2_code"], edit.after["category2_code"]) == ("01-07-03", "01-07-01")
    service.update_application(db, w.registrant, app.id,
                               {"subcatalogue_code": "04", "category1_code": "04-01", "category2_code": None})
    assert (app.subcatalogue_code, app.category1_code, app.category2_code) == ("04", "04-01", None)


def test_a_change_registration_changes_the_category_a_renewal_keeps_it(db, w):
    _app, cert = to_certificate(db, w, w.registrant, initial(**ROBOT))
    for changes, field in [({"category1_code": "04-01"}, "changes.category1_code"),
                           ({"category2_code": "01-01-01"}, "changes.category2_code"),
                           ({"category2_code": "01-07-09"}, "changes.category2_code"),
                           ({"category1_code": "01 07"}, "changes")]:
        with pytest.raises(ValidationFailed) as err:
            service.create_application(db, w.registrant, {"kind": "change", "registration_id": cert.id,
                                                          "changes": changes}, on=wd(60))
        assert err.value.field == field, changes
    change = service.create_application(db, w.registrant, {"kind": "change", "registration_id": cert.id,
                                                           "changes": {"category2_code": "01-07-01"}},
                                        on=wd(60))
    with pytest.raises(ValidationFailed) as err:
        service.update_application(db, w.registrant, change.id, {"changes": {"category1_code": "01-01"}})
    assert err.value.field == "changes.category2_code"  # 01-07-03 of the certificate is not under 01-01
    service.submit(db, w.registrant, change.id, on=wd(60))
    service.accept(db, w.cmde, change.id, on=wd(61))
    service.start_review(db, w.cmde, change.id, on=wd(62))
    service.complete_review(db, w.cmde, change.id, "Intended use narrowed to navigation.", on=wd(70))
    service.approve(db, w.cmde, change.id, password=w.password, on=wd(71))
    same = service.issue_certificate(db, w.cmde, change.id, on=wd(72))
    assert same.id == cert.id and (same.category1_code, same.category2_code) == ("01-07", "01-07-01")
    assert same.change_documents[0].changes == {"category2_code": {"before": "01-07-03", "after": "01-07-01"}}
    changed = [e for e in audit.history(db, CERT_ENTITY, cert.id) if e.action == "issue_change"][-1]
    assert (changed.before["category2_code"], changed.after["category2_code"]) == ("01-07-03", "01-07-01")
    assert queries.certificate_categories(db)[cert.number] == ("01-07", "01-07-01")
    applied = rules.renewal_deadline(cert.valid_until)
    ren = service.create_application(db, w.registrant, {"kind": "renewal", "registration_id": cert.id},
                                     on=applied)
    service.submit(db, w.registrant, ren.id, on=applied)
    service.accept(db, w.cmde, ren.id, on=applied)
    service.start_review(db, w.cmde, ren.id, on=applied)
    service.complete_review(db, w.cmde, ren.id, "Nothing against renewal.", on=applied)
    service.approve(db, w.cmde, ren.id, password=w.password, on=applied)
    renewed = service.issue_certificate(db, w.cmde, ren.id, on=applied)
    assert renewed.id != cert.id and (renewed.category1_code, renewed.category2_code) == ("01-07", "01-07-01")
