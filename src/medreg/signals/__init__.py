"""Signal detection (Announcement No. 63, measure VII): disproportionality statistics over
(device, event) pairs, the columnar counting that feeds them, and the ``medreg signals`` commands.

The statistics modules (``disproportionality``, ``stratified``, ``bcpnn``, ``ebgm``, ``squashing``,
``scoring``) are pure: NumPy/SciPy arrays in, frozen result objects out; no database, no I/O.
"""
