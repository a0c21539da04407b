"""Every statutory limit the pre-market services use equals its row in nmpa-law/deadlines.csv.

deadlines.csv (package data, see src/medreg/data/nmpa-law/SOURCE.md) quotes the article that sets
each limit; if either side changes, this test says which.
"""

import pytest

from medreg.core.reference import time_limit
from medreg.premarket.innovation import rules as innovation_rules
from medreg.premarket.innovation import service_support as innovation
from medreg.premarket.registration import rules as registration

NO83 = "NMPA 2018 No.83"
ORDER47 = "SAMR Order 47"

CASES = [
    ("innovation province pre-review", (innovation.PROVINCE_CLOCK[1], "working_days"), NO83, "5", ""),
    ("innovation review opinion", (innovation.REVIEW_CLOCK[1], "working_days"), NO83, "9", ""),
    ("innovation public notice", (innovation_rules.MIN_NOTICE_WORKING_DAYS, "working_days"), NO83, "10", ""),
    ("innovation formal check (by analogy)", (innovation.FORMAL_CLOCK[1], "working_days"), ORDER47, "53", ""),
    ("registration acceptance", (registration.ACCEPTANCE.value, registration.ACCEPTANCE.unit),
     ORDER47, "53", ""),
    ("registration forwarding", (registration.FORWARDING.value, registration.FORWARDING.unit),
     ORDER47, "91", ""),
    ("registration supplement period",
     (registration.SUPPLEMENT_PERIOD.value, registration.SUPPLEMENT_PERIOD.unit), ORDER47, "54", ""),
    ("registration objection", (registration.OBJECTION_PERIOD.value, registration.OBJECTION_PERIOD.unit),
     ORDER47, "57", ""),
    ("registration decision", (registration.DECISION.value, registration.DECISION.unit), ORDER47, "94", ""),
    ("certificate issue", (registration.CERTIFICATE_ISSUE.value, registration.CERTIFICATE_ISSUE.unit),
     ORDER47, "95", ""),
    ("class III review", (registration.review_limit("III").value, "working_days"), ORDER47, "92(3)",
     "start of technical review"),
    ("class III review after supplements",
     (registration.review_limit("III", after_supplement=True).value, "working_days"), ORDER47, "92(3)",
     "receipt of supplements"),
    ("class II review", (registration.review_limit("II").value, "working_days"), ORDER47, "92(2)",
     "start of technical review"),
]


@pytest.mark.parametrize(("what", "in_code", "law", "article", "trigger"), CASES, ids=[c[0] for c in CASES])
def test_limit_in_code_equals_the_article(what, in_code, law, article, trigger):
    row = time_limit(law, article, trigger)
    assert in_code == (row.limit_value, row.limit_unit), (
        f"{what}: code {in_code}, {row.law} Art.{row.article}")
