"""Classification and naming (Measures II and III of NMPA Announcement No. 63): the versioned
医疗器械分类目录 and its search, the explainable classification engine, the generic-name checker."""

# Answer code look-ups of sibling domains (registration checks its product category here) from the
# moment the catalogue's tables are imported, whichever entry point runs (core/lookups.py).
from medreg.catalog import lookups as _lookups  # noqa: F401,E402
