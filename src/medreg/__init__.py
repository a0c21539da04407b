"""medreg: whole life-cycle regulation of high-end medical devices."""

__version__ = "0.1.0"
