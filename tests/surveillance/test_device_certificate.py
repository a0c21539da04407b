"""An implant's UDI-DI (parsed with biip from its UDI) is linked to the registration certificate its
registrant declared it for (Order 47 Art.101); an undeclared DI is stated as such, never guessed."""

from __future__ import annotations

import pytest

from medreg.core import audit
from medreg.core.errors import Conflict, PermissionDenied, ValidationFailed
from medreg.premarket.registration import service_udi
from medreg.surveillance import queries
from medreg.surveillance.udi import parse_udi
from tests.premarket.test_registration_world import build, initial, to_certificate

GTIN13 = "6901234567892"  # /work/shared/data/udi/examples.csv, row cn_gtin13_expiry_lot (constructed)
UDI = "(01)06901234567892(17)271231(10)A2405001"


def test_declared_di_links_the_implant_to_its_certificate(db):
    w = build(db)
    _app, cert = to_certificate(db, w, w.registrant, initial())
    row = service_udi.declare_di(db, w.registrant, cert.id, GTIN13)  # GTIN-13 given, GTIN-14 kept
    assert row.di == "06901234567892"
    implant = parse_udi(UDI)
    linked = queries.device_certificate(db, w.registrant, implant.di)
    assert linked is not None
    assert (linked.certificate_id, linked.number, linked.status) == (cert.id, cert.number, "valid")
    assert linked.product_name == "Maglev ventricular assist device"
    assert linked.registrant_name == "Beijing Heart Co"
    events = audit.history(db, "registration_certificate", cert.id)
    assert events[-1].action == "registration.certificate.di" and events[-1].after["di"] == row.di


def test_an_undeclared_di_is_not_linked(db):
    w = build(db)
    to_certificate(db, w, w.registrant, initial())  # a certificate exists, but no DI was declared
    assert queries.device_certificate(db, w.registrant, parse_udi(UDI).di) is None


def test_only_the_registrant_or_the_office_declares_and_a_di_has_one_certificate(db):
    w = build(db)
    _app, cert = to_certificate(db, w, w.registrant, initial())
    with pytest.raises(PermissionDenied):
        service_udi.declare_di(db, w.other, cert.id, GTIN13)
    with pytest.raises(ValidationFailed) as err:
        service_udi.declare_di(db, w.registrant, cert.id, "06901234567890")  # wrong check digit
    assert err.value.field == "di"
    with pytest.raises(ValidationFailed) as err:
        service_udi.declare_di(db, w.registrant, cert.id, "(01)06901234567892")
    assert err.value.field == "di"
    service_udi.declare_di(db, w.cmde, cert.id, GTIN13)  # the office may declare it
    _app2, cert2 = to_certificate(db, w, w.other, initial(product_name="Other pump"))
    with pytest.raises(Conflict) as err:
        service_udi.declare_di(db, w.other, cert2.id, "06901234567892")
    assert err.value.params["number"] == cert.number
