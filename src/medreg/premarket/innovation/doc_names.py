"""The names of the dossier's document types (pure): msgids, translated where they are shown (the upload
form and the eligibility reasons of ``rules``)."""

from __future__ import annotations

from medreg.core.said import _

DOC_NAMES = {
    "application_form": _("Application form"),
    "qualification": _("Qualification documents"),
    "ip_evidence": _("Intellectual property evidence"),
    "rd_summary": _("Summary of research and development"),
    "technical_file": _("Technical file"),
    "innovation_evidence": _("Evidence of innovation"),
    "risk_analysis": _("Risk analysis"),
    "ifu_draft": _("Draft instructions for use"),
    "other_evidence": _("Other evidence"),
    "authenticity_declaration": _("Declaration of authenticity"),
    "device_status_evidence": _("Evidence of medical device status"),
    "agent_documents": _("Agent documents"),
    "patent_licence_record": _("Patent licence record"),
    "search_report": _("Search report"),
    "supplement": _("Supplement"),
}
