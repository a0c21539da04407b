"""Bad input on every endpoint: never a 500, always a 4xx naming the field, and nothing written.

Routes are discovered from ``create_app()`` when the tests run, so every router that exists is
covered: every unsafe route (POST, PUT, PATCH, DELETE) and every JSON GET with path or query
parameters. Payloads are generated from each route's parameters and body model (a sample per
route, not the cross product): empty body, broken JSON, a list instead of an object, wrong types,
huge strings, unknown enum values, dates in the wrong format, a wrong ``expected_version``,
non-numeric and non-existent ids, unknown fields, and (cookie sessions) a missing CSRF token.
Each is sent as the owner registrant and as a CMDE reviewer (bearer tokens). The row count of every
table (``audit_event`` and every domain table; not ``login_attempt``, where failed logins are
recorded by design) must be the same before and after.
"""

from __future__ import annotations

import enum
import inspect
import json
import re
import types
import typing
from dataclasses import dataclass
from datetime import date, datetime

import pytest
from fastapi.routing import APIRoute
from fastapi.testclient import TestClient
from pydantic import BaseModel
from sqlalchemy import func, select

from medreg.core import auth
from medreg.core.deps import CSRF_HEADER
from medreg.models import metadata
from medreg.web.app import create_app
from tests.factories import PASSWORD
from tests.test_tenancy_matrix import build_world, world_session  # noqa: F401 (fixture)
from tests.web.conftest import bind_session, csrf_of, login

UNSAFE = {"POST", "PUT", "PATCH", "DELETE"}
HUGE = "x" * 100_001
MISSING_ID = 987_654
# A JSON body with username and password: no cookie authority for a forged request to use (and a
# cross-site JSON POST needs a CORS preflight); it answers 422/401/429 without the CSRF token.
CSRF_EXEMPT = {"/api/auth/token"}
NOT_COUNTED = {"login_attempt"}  # failed logins are recorded on purpose (rate limiting, docs/web.md)


# --- discovering the routes ---------------------------------------------------------------------
@dataclass(frozen=True)
class Param:
    name: str
    where: str  # path | query | json | form | file
    annotation: typing.Any
    required: bool


@dataclass(frozen=True)
class Route:
    method: str
    path: str
    params: tuple[Param, ...]
    body_model: type[BaseModel] | None

    @property
    def is_api(self) -> bool:
        return self.path.startswith("/api/")

    def __str__(self) -> str:
        return f"{self.method} {self.path}"


def _walk(routes):
    """Every APIRoute with its full path (FastAPI nests included routers)."""
    for r in routes:
        if hasattr(r, "effective_candidates"):
            yield from _walk(r.effective_candidates())
        elif hasattr(r, "original_route"):
            route = r.starlette_route or r.original_route
            if isinstance(route, APIRoute):
                yield r.path, route
        elif isinstance(r, APIRoute):
            yield r.path, r


def _flat(dependant, out, key=("", "")):
    for where, fields in (("path", dependant.path_params), ("query", dependant.query_params)):
        out += [Param(f.name, where, f.field_info.annotation, f.field_info.is_required()) for f in fields]
    for f in dependant.body_params:
        kind = type(f.field_info).__name__  # Body | Form | File
        where = {"Form": "form", "File": "file"}.get(kind, "json")
        out.append(Param(f.alias or f.name, where, f.field_info.annotation, f.field_info.is_required()))
    for sub in dependant.dependencies:
        _flat(sub, out, key)
    return out


def discover() -> list[Route]:
    found = {}
    for path, route in _walk(create_app().routes):
        for method in sorted(route.methods or ()):
            params = tuple(_flat(route.dependant, [], (method, path)))
            bodies = [p.annotation for p in params if p.where == "json"]
            model = bodies[0] if len(bodies) == 1 and _is_model(bodies[0]) else None
            found[(method, path)] = Route(method, path, params, model)
    return list(found.values())


def _is_model(t) -> bool:
    return inspect.isclass(t) and issubclass(t, BaseModel)


def _base_type(t):
    """``int | None`` -> int; ``Annotated[int, ...]`` -> int."""
    origin = typing.get_origin(t)
    if origin in (typing.Union, types.UnionType):
        args = [a for a in typing.get_args(t) if a is not type(None)]
        return _base_type(args[0]) if len(args) == 1 else t
    if origin is typing.Annotated:
        return _base_type(typing.get_args(t)[0])
    return t


def _selected(routes: list[Route]) -> list[Route]:
    def wanted(r: Route) -> bool:
        if r.method in UNSAFE:
            return True
        return r.method == "GET" and r.is_api and any(p.where in ("path", "query") for p in r.params)

    return sorted((r for r in routes if wanted(r)), key=lambda r: (r.path, r.method))


try:
    ROUTES, DISCOVERY_ERROR = _selected(discover()), None
except Exception as exc:  # the app does not even start: one failing test says why
    ROUTES, DISCOVERY_ERROR = [], exc


# --- payloads ------------------------------------------------------------------------------------
def _schema_value(prop: dict, defs: dict, name: str):
    """A plausible valid value for one JSON-schema property (used as the base of each variant)."""
    if "$ref" in prop:
        prop = defs[prop["$ref"].split("/")[-1]]
    for key in ("anyOf", "oneOf", "allOf"):
        if key in prop:
            options = [p for p in prop[key] if p.get("type") != "null"]
            return _schema_value(options[0], defs, name) if options else None
    if "enum" in prop:
        return prop["enum"][0]
    if "const" in prop:
        return prop["const"]
    kind, fmt = prop.get("type"), prop.get("format")
    if name == "password":
        return PASSWORD
    if name == "outcome":
        return "propose"
    if kind == "string":
        if fmt == "date":
            return "2025-03-03"
        if fmt == "date-time":
            return "2025-03-03T08:00:00Z"
        if fmt == "email":
            return "someone@example.org"
        return "A sufficiently long reason for this request."[: prop.get("maxLength", 200)]
    if kind == "integer":
        return max(1, prop.get("minimum", 1))
    if kind == "number":
        return 1.0
    if kind == "boolean":
        return True
    if kind == "array":
        item = _schema_value(prop.get("items", {}), defs, name)
        return [item] * max(3, prop.get("minItems", 0)) if item is not None else []
    if kind == "object":
        return _valid_object(prop, defs)
    return "x"


def _valid_object(schema: dict, defs: dict) -> dict:
    return {
        name: _schema_value(prop, defs, name)
        for name, prop in schema.get("properties", {}).items()
        if name in schema.get("required", ()) or name == "expected_version"
    }


def _wrong_type(prop: dict, defs: dict):
    if "$ref" in prop:
        prop = defs[prop["$ref"].split("/")[-1]]
    kinds = {p.get("type") for p in prop.get("anyOf", [prop])}
    if kinds & {"integer", "number"}:
        return "not-a-number"
    if "boolean" in kinds:
        return "maybe"
    if "array" in kinds:
        return "not-a-list"
    return {"unexpected": ["object"]}


def json_variants(model: type[BaseModel]) -> list[tuple[str, object]]:
    schema = model.model_json_schema()
    defs, props = schema.get("$defs", {}), schema.get("properties", {})
    base = _valid_object(schema, defs)
    out: list[tuple[str, object]] = [("empty body", None), ("broken JSON", b"{not json"), ("a list", [])]
    if schema.get("required"):
        out.append(("no fields", {}))
    out.append(("wrong types", {**base, **{n: _wrong_type(p, defs) for n, p in props.items()}}))
    strings = [n for n, p in props.items() if _is_string(p, defs)]
    if strings:
        out.append(("huge strings", {**base, **dict.fromkeys(strings, HUGE)}))
    enums = [n for n, p in props.items() if _is_enum(p, defs)]
    if enums:
        out.append(("unknown enum value", {**base, **dict.fromkeys(enums, "no-such-value")}))
    dates = [n for n, p in props.items() if _fmt(p, defs) in ("date", "date-time")]
    if dates:
        out.append(("date in the wrong format", {**base, **dict.fromkeys(dates, "03/03/2025")}))
    if "expected_version" in props:
        out.append(("expected_version not a version", {**base, "expected_version": 0}))
        out.append(("wrong expected_version", {**base, "expected_version": 999_999}))
    out.append(("unknown field", {**base, "no_such_field": 1}))
    return out


def _resolve(p: dict, defs: dict) -> list[dict]:
    p = defs[p["$ref"].split("/")[-1]] if "$ref" in p else p
    opts = p.get("anyOf") or [p]
    return [defs[o["$ref"].split("/")[-1]] if "$ref" in o else o for o in opts]


def _is_string(p, defs) -> bool:
    return any(
        o.get("type") == "string" and "enum" not in o and not o.get("format") for o in _resolve(p, defs)
    )


def _is_enum(p, defs) -> bool:
    return any("enum" in o for o in _resolve(p, defs))


def _fmt(p, defs) -> str | None:
    return next((o.get("format") for o in _resolve(p, defs) if o.get("format")), None)


def form_variants(route: Route) -> list[tuple[str, dict, dict | None]]:
    """(label, form fields, files) for a form/multipart route."""
    fields = [p for p in route.params if p.where == "form"]
    has_file = any(p.where == "file" for p in route.params)
    out: list[tuple[str, dict, dict | None]] = [("empty form", {}, None)]
    base = {p.name: _form_value(p) for p in fields}
    out.append(("huge strings", {k: HUGE for k in base}, None))
    enums = [
        p.name
        for p in fields
        if inspect.isclass(_base_type(p.annotation)) and issubclass(_base_type(p.annotation), enum.Enum)
    ]
    if enums:
        out.append(("unknown enum value", {**base, **dict.fromkeys(enums, "no-such-value")}, None))
    if has_file:
        out.append(("empty file", base, {"file": ("empty.pdf", b"", "application/pdf")}))
        out.append(
            ("file of the wrong type", base, {"file": ("x.exe", b"MZ\x90\x00binary", "application/pdf")})
        )
    return out


def _form_value(p: Param):
    t = _base_type(p.annotation)
    if inspect.isclass(t) and issubclass(t, enum.Enum):
        return next(iter(t)).value
    if t is int:
        return "1"
    if t in (date, datetime):
        return "2025-03-03"
    return "A sufficiently long value."


# --- the harness ---------------------------------------------------------------------------------
@dataclass
class Harness:
    session: object
    world: object
    bearer: TestClient  # no cookies: Authorization headers only
    cookie: dict  # role -> (TestClient logged in with the session cookie, its CSRF token)
    tokens: dict  # role -> bearer token


@pytest.fixture(scope="module")
def harness(world_session):  # noqa: F811
    """The module's world, an app bound to it, bearer tokens and cookie sessions (owner, CMDE)."""
    session, world = world_session
    app = create_app()
    bind_session(app, session)
    roles = ("A", "OFF")
    tokens = {
        r: auth.issue_token(session, world.actors[r], world.actors[r].user_id, "bad-input") for r in roles
    }
    session.commit()
    opts = {"follow_redirects": False, "raise_server_exceptions": False}
    with TestClient(app, **opts) as bearer, TestClient(app, **opts) as ca, TestClient(app, **opts) as co:
        cookie = {}
        for role, client in (("A", ca), ("OFF", co)):
            assert login(client, world.actors[role].username).status_code == 303
            cookie[role] = (client, csrf_of(client))
        yield Harness(session, world, bearer, cookie, tokens)


def path_values(route: Route, world) -> dict[str, object]:
    """Real ids of the world for the path parameters (so a variant fails on its input, not on 404)."""
    registration = route.path.startswith(("/api/registration", "/registration"))
    inv, reg, ids = world.inv, world.reg, world.ids
    known = {
        "app_id": reg["submitted"] if registration else inv["submitted"],
        "application_id": inv["submitted"],
        "document_id": ids["doc_submitted"],
        "objection_id": ids["objection"],
        "notice_id": ids["notice"],
        "certificate_id": ids["certificate"],
        "obligation_id": ids["obligation"],
        "consultation_id": ids["consultation"],
        "assignment_id": ids["assignment"],
        "expert_id": world.w.experts[0][0].id,
        "number": "国械注准20253120001",
        "code": "en",
        "action": "accept",
    }
    return {p.name: known.get(p.name, 1) for p in route.params if p.where == "path"}


def url(route: Route, values: dict) -> str:
    return re.sub(r"\{(\w+)(:\w+)?\}", lambda m: str(values.get(m.group(1), m.group(0))), route.path)


def count_rows(session) -> dict[str, int]:
    tables = [t for t in metadata.sorted_tables if t.name not in NOT_COUNTED]
    row = session.execute(select(*[select(func.count()).select_from(t).scalar_subquery() for t in tables]))
    return dict(zip([t.name for t in tables], row.one(), strict=True))


def check_error(route: Route, label: str, response) -> str | None:
    """None if the response is a proper refusal; else what is wrong with it."""
    if response.status_code >= 500:
        return f"{response.status_code} (server error)"
    if not 400 <= response.status_code < 500:
        return f"{response.status_code}: accepted ({response.text[:200]})"
    if not route.is_api:
        return None
    try:
        body = response.json()
    except ValueError:
        return f"{response.status_code}: not JSON ({response.text[:120]})"
    if not body.get("error") or not body.get("message"):
        return f"{response.status_code}: no error code or message: {body}"
    if response.status_code == 422:
        errors = (body.get("details") or {}).get("errors")
        if not body.get("field") and not errors:
            return f"422 without a field: {body}"
        for e in errors or []:
            if not e.get("field") or not e.get("reason"):
                return f"422 entry without field or reason: {e}"
    if (
        label == "wrong expected_version"
        and body["error"] == "conflict"
        and body.get("field") != "expected_version"
    ):
        return f"409 not naming expected_version: {body}"
    if label == "no CSRF token" and (response.status_code != 403 or body.get("field") != "csrf_token"):
        return f"{response.status_code}: missing CSRF not refused as such: {body}"
    return None


def send(client, route: Route, target: str, headers: dict, payload=None, form=None, files=None):
    kwargs: dict = {"headers": dict(headers)}
    if files is not None or form is not None:
        kwargs.update(data=form or {}, files=files)
    elif isinstance(payload, bytes):
        kwargs["content"] = payload
        kwargs["headers"]["content-type"] = "application/json"
    elif payload is not None:
        kwargs["content"] = json.dumps(payload)
        kwargs["headers"]["content-type"] = "application/json"
    return client.request(route.method, target, **kwargs)


PAGE_FORM = {  # the field names the page forms use; pages read their forms by hand
    "expected_version": "abc",
    "version": "abc",
    "reason": HUGE,
    "reasons": HUGE,
    "note": HUGE,
    "opinion": "no-such-value",
    "answer": HUGE,
    "product_name": HUGE,
    "doc_type": "no-such-value",
    "due_on": "03/03/2025",
    "meeting_on": "03/03/2025",
    "kind": "no-such-value",
    "topic": "no-such-value",
}


def unsafe_cases(route: Route, world) -> list[tuple[str, str, dict]]:
    """(label, url, request kwargs) for one unsafe route."""
    real = path_values(route, world)
    if route.path == "/logout":  # no input; only the CSRF case applies
        return []
    cases: list[tuple[str, str, dict]] = []
    if route.body_model is not None:
        cases += [(label, url(route, real), {"payload": p}) for label, p in json_variants(route.body_model)]
        schema = route.body_model.model_json_schema()
        body = {"payload": _valid_object(schema, schema.get("$defs", {}))}
    elif any(p.where in ("form", "file") for p in route.params):
        cases += [
            (label, url(route, real), {"form": f, "files": fl}) for label, f, fl in form_variants(route)
        ]
        body = {"form": {}}
    else:  # a page that reads its form by hand
        cases += [
            ("empty form", url(route, real), {"form": {}}),
            ("malformed form fields", url(route, real), {"form": PAGE_FORM}),
        ]
        body = {"form": PAGE_FORM}
    for p in route.params:
        if p.where == "path" and _base_type(p.annotation) is int:
            cases.append((f"non-numeric {p.name}", url(route, {**real, p.name: "abc"}), body))
            cases.append((f"negative {p.name}", url(route, {**real, p.name: -1}), body))
            cases.append((f"non-existent {p.name}", url(route, {**real, p.name: MISSING_ID}), body))
            cases.append((f"huge {p.name}", url(route, {**real, p.name: "9" * 40}), body))
        elif p.where == "path":
            cases.append((f"unknown {p.name}", url(route, {**real, p.name: "no-such-" + p.name}), body))
    return cases


def get_cases(route: Route, world) -> list[tuple[str, str]]:
    real = path_values(route, world)
    cases = []
    for p in route.params:
        t = _base_type(p.annotation)
        if p.where == "path" and t is int:
            cases.append((f"non-numeric {p.name}", url(route, {**real, p.name: "abc"})))
            cases.append((f"non-existent {p.name}", url(route, {**real, p.name: MISSING_ID})))
            cases.append((f"huge {p.name}", url(route, {**real, p.name: "9" * 40})))
        elif p.where == "path":
            cases.append((f"huge {p.name}", url(route, {**real, p.name: "x" * 5000})))
        elif p.where == "query":
            bad = {int: "abc", bool: "maybe", float: "abc", date: "03/03/2025"}.get(t)
            if inspect.isclass(t) and issubclass(t, enum.Enum):
                bad = "no-such-value"
            if bad is not None:
                cases.append((f"{p.name}={bad}", url(route, real) + f"?{p.name}={bad}"))
    return cases


def finish(route: Route, problems: list[tuple[str, str]]) -> None:
    """Fail on any problem (a 40-digit id included: ids are bounded by ``RecordId``, never a 500)."""
    assert not problems, f"{route}:\n" + "\n".join(f"{who}: {what}" for who, what in problems)


@pytest.mark.skipif(DISCOVERY_ERROR is None, reason="the app starts")
def test_the_app_starts():
    raise AssertionError(f"create_app() failed, no route could be checked: {DISCOVERY_ERROR!r}")


@pytest.mark.parametrize("route", [r for r in ROUTES if r.method in UNSAFE], ids=str)
def test_unsafe_route_refuses_bad_input(harness, route: Route):
    h = harness
    problems: list[tuple[str, str]] = []

    def attempt(who: str, label: str, client, target: str, headers: dict, kwargs: dict) -> None:
        before = count_rows(h.session)
        response = send(client, route, target, headers, **kwargs)
        problem = check_error(route, label, response)
        after = count_rows(h.session)
        if after != before:
            changed = {t: after[t] - before[t] for t in after if after[t] != before[t]}
            problem = (problem or str(response.status_code)) + f"; rows written: {changed}"
        if problem:
            problems.append((f"{who} / {label}", problem))

    for label, target, kwargs in unsafe_cases(route, h.world):
        roles = (
            ("A", "OFF")
            if label == "wrong expected_version" or label.startswith("non-existent")
            else ("OFF",)
        )
        for role in roles:
            if route.is_api:
                attempt(role, label, h.bearer, target, {"Authorization": f"Bearer {h.tokens[role]}"}, kwargs)
            else:
                client, token = h.cookie[role]
                attempt(role, label, client, target, {CSRF_HEADER: token}, kwargs)
    if route.path in CSRF_EXEMPT:
        return finish(route, problems)
    client, _token = h.cookie["OFF"]  # a logged-in browser session that does not send the token
    real = url(route, path_values(route, h.world))
    attempt(
        "OFF cookie", "no CSRF token", client, real, {}, {"form": {}} if not route.is_api else {"payload": {}}
    )
    finish(route, problems)


@pytest.mark.parametrize("route", [r for r in ROUTES if r.method == "GET"], ids=str)
def test_json_get_refuses_bad_parameters(harness, route: Route):
    problems = []
    for label, target in get_cases(route, harness.world):
        response = harness.bearer.get(target, headers={"Authorization": f"Bearer {harness.tokens['OFF']}"})
        problem = check_error(route, label, response)
        if problem:
            problems.append((label, problem))
    finish(route, problems)
