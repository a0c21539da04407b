"""The web fixtures (``app``, ``client`` bound to the rolled-back test session) for the surveillance
page tests kept with the domain's tests."""

from tests.web.conftest import app, client  # noqa: F401 (fixtures)
