"""AI medical devices (NMPA Announcement No. 63 (2025), measure IV).

Pure statistics (``metrics_*``, ``agreement``, ``paired``, ``detection``, ``subgroups``), the change-triage
rule interpreter (``triage``) and the sealed evaluation databases (models, service, api, cli).
"""
