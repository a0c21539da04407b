"""Active surveillance of implants (measure VII of NMPA Announcement No. 63, 2025): sentinel-hospital
registry, sequential monitoring (MaxSPRT, risk-adjusted CUSUM, O/E, DELTA-style matched comparison)."""
