"""Every table of every domain, imported once so Alembic and ``create_all`` see the whole schema."""

from medreg.core import accounts, audit, clocks, reference, signatures  # noqa: F401
from medreg.core.db import Base

metadata = Base.metadata
