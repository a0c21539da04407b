"""The FastAPI application: sessions, static files, error mapping, auth pages, domain routers.

Run it with ``medreg serve`` (uvicorn with the :func:`create_app` factory).
"""

from __future__ import annotations

import importlib
import logging
from contextlib import asynccontextmanager
from pathlib import Path

from fastapi import FastAPI
from fastapi.staticfiles import StaticFiles
from starlette.middleware.sessions import SessionMiddleware

from medreg.core.settings import Settings, get_settings
from medreg.premarket.registration import jobs as _registration_jobs  # noqa: F401  (job kinds)
from medreg.signals import jobs as _signals_jobs  # noqa: F401  (job kinds)
from medreg.web import auth_pages, jobs_pages
from medreg.web.errors import install_error_handlers

log = logging.getLogger(__name__)
STATIC_DIR = Path(__file__).resolve().parent / "static"
SESSION_COOKIE = "medreg_session"

# Domain routers, included when the module exists. Each module exposes ``router``.
DOMAIN_ROUTERS = (
    "medreg.premarket.innovation.api",
    "medreg.premarket.innovation.pages",
    "medreg.premarket.registration.api",
    "medreg.premarket.registration.pages",
    "medreg.premarket.registration.pages_udi",
    "medreg.premarket.registration.api_export",
    "medreg.premarket.registration.pages_export",
    "medreg.premarket.experts.api",
    "medreg.premarket.experts.pages",
    "medreg.vigilance.api",
    "medreg.vigilance.api_tools",
    "medreg.vigilance.pages_review",
    "medreg.vigilance.pages_follow",
    "medreg.vigilance.pages",
    "medreg.ai.api",
    "medreg.ai.pages",
    "medreg.ai.pages_curate",
    "medreg.ai.pages_pdf",
    "medreg.surveillance.api",
    "medreg.surveillance.pages",
    "medreg.surveillance.pages_registry",
    "medreg.surveillance.pages_studies",
    "medreg.surveillance.pages_protocols",
    "medreg.surveillance.pages_monitors",
    "medreg.surveillance.api_edit",
    "medreg.surveillance.pages_monitor_edit",
    "medreg.surveillance.pages_charts",
    "medreg.catalog.api",
    "medreg.catalog.pages",
    "medreg.catalog.pages_requests",
    "medreg.signals.api",
    "medreg.signals.pages",
    "medreg.signals.pages_analyses",
)


def import_optional(module_name: str):
    """Import ``module_name``; None only if that module (or its package) does not exist.

    An ImportError raised *inside* an existing module is a real bug and propagates."""
    try:
        return importlib.import_module(module_name)
    except ModuleNotFoundError as exc:
        if exc.name and (module_name == exc.name or module_name.startswith(exc.name + ".")):
            return None
        raise


def include_domain_routers(app: FastAPI, modules: tuple[str, ...] | None = None) -> list[str]:
    included = []
    for name in DOMAIN_ROUTERS if modules is None else modules:
        module = import_optional(name)
        if module is None:
            log.info("router module %s not present; skipped", name)
            continue
        app.include_router(module.router)
        included.append(name)
    return included


def _start_worker(settings: Settings):
    if not settings.run_worker_in_process:
        return None
    jobs = import_optional("medreg.core.worker")
    start = getattr(jobs, "start_in_process_worker", None) if jobs else None
    if start is None:
        log.info("no in-process job worker available (medreg.core.worker.start_in_process_worker)")
        return None
    return start()


def _stop_worker(handle) -> None:
    """``start_in_process_worker()`` returns ``(thread, stop_event)``: signal, then wait briefly."""
    if handle is None:
        return
    thread, stop = handle
    stop.set()
    thread.join(timeout=10)


def create_app(settings: Settings | None = None) -> FastAPI:
    settings = settings or get_settings()

    @asynccontextmanager
    async def lifespan(app: FastAPI):
        worker = _start_worker(settings)
        app.state.worker = worker
        try:
            yield
        finally:
            _stop_worker(worker)

    app = FastAPI(title="medreg", version="0.1.0", lifespan=lifespan,
                  description="高端医疗器械全生命周期监管 · whole life-cycle regulation of high-end "
                              "medical devices")
    app.state.settings = settings
    app.add_middleware(
        SessionMiddleware,
        secret_key=settings.secret_key,
        session_cookie=SESSION_COOKIE,
        max_age=settings.session_max_age_seconds,
        same_site="lax",
        https_only=settings.cookie_secure,
    )  # Starlette's session cookie is always HttpOnly and signed with itsdangerous
    app.mount("/static", StaticFiles(directory=STATIC_DIR), name="static")
    install_error_handlers(app)
    app.include_router(auth_pages.pages)
    app.include_router(auth_pages.token_api)
    app.include_router(auth_pages.api)
    app.include_router(jobs_pages.pages)
    app.include_router(jobs_pages.api)
    app.state.domain_routers = include_domain_routers(app)
    return app
