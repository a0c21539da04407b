"""Every table of every domain, imported once so Alembic and ``create_all`` see the whole schema."""

from medreg.ai import models as ai_models  # noqa: F401
from medreg.catalog import models as catalog_models  # noqa: F401
from medreg.core import accounts, audit, clocks, files, jobs, reference, schedules, signatures  # noqa: F401
from medreg.core.db import Base
from medreg.evidence import models as evidence_models  # noqa: F401
from medreg.premarket.experts import models as experts_models  # noqa: F401
from medreg.premarket.innovation import models as innovation_models  # noqa: F401
from medreg.premarket.registration import models as registration_models  # noqa: F401
from medreg.signals import models as signals_models  # noqa: F401
from medreg.surveillance import models as surveillance_models  # noqa: F401
from medreg.vigilance import models as vigilance_models  # noqa: F401

metadata = Base.metadata
