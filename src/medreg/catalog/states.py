"""The 分类界定 (classification determination) request as a case: its states and transitions (pure)."""

from __future__ import annotations

from enum import StrEnum

from medreg.core.workflow import TransitionTable


class RequestStatus(StrEnum):
    SUBMITTED = "submitted"  # the registrant asked; the engine's opinion is stored with the request
    DECIDED = "decided"  # a reviewer decided the class (electronically signed)
    PUBLISHED = "published"  # the result is public
    WITHDRAWN = "withdrawn"  # the registrant withdrew before the decision


TABLE = TransitionTable({
    (RequestStatus.SUBMITTED, "decide"): (RequestStatus.DECIDED, {"reviewer"}),
    (RequestStatus.SUBMITTED, "withdraw"): (RequestStatus.WITHDRAWN, {"registrant"}),
    (RequestStatus.DECIDED, "publish"): (RequestStatus.PUBLISHED, {"reviewer", "admin"}),
})
