"""A clearly labelled, made-up demo data set: organisations, one login per role, experts and
applications in different states. Nothing here is a real company, person or application.

``medreg demo load`` runs it (``make demo`` calls it after the migrations and the reference data).
"""

from __future__ import annotations

from dataclasses import dataclass

import typer
from rich.console import Console
from rich.table import Table
from sqlalchemy import select
from sqlalchemy.orm import Session

from medreg.core import reference
from medreg.core.accounts import Organisation, OrgKind, Role, User, UserRole
from medreg.core.actor import Actor
from medreg.core.db import session_scope
from medreg.core.security import hash_password

DEMO_PASSWORD = "demo-password-2026"

app = typer.Typer(help="The made-up demo data set.", no_args_is_help=True)


@dataclass(frozen=True)
class DemoOrg:
    key: str
    kind: str
    name: str
    name_en: str
    country: str = "CN"
    province: str | None = None


ORGS = [
    DemoOrg("cmde", OrgKind.REGULATOR_UNIT, "国家药监局医疗器械技术审评中心（演示）",
            "CMDE innovation review office (demo)", province=None),
    DemoOrg("bj_bureau", OrgKind.PROVINCIAL_BUREAU, "北京市药品监督管理局（演示）",
            "Beijing Medical Products Administration (demo)", province="Beijing"),
    DemoOrg("adr", OrgKind.MONITORING_CENTRE, "国家药品不良反应监测中心（演示）",
            "National ADR monitoring centre (demo)"),
    DemoOrg("robotics", OrgKind.REGISTRANT, "示例智能手术机器人有限公司（虚构）",
            "Example Surgical Robotics Co., Ltd. (made up)", province="Beijing"),
    DemoOrg("imaging", OrgKind.REGISTRANT, "示例影像科技股份有限公司（虚构）",
            "Example Imaging Technology Co., Ltd. (made up)", province="Beijing"),
    DemoOrg("overseas", OrgKind.REGISTRANT, "Example Neurotech GmbH (made up)",
            "Example Neurotech GmbH (made up)", country="DE"),
    DemoOrg("hospital", OrgKind.HOSPITAL, "示例大学附属医院（虚构）", "Example University Hospital (made up)",
            province="Beijing"),
    DemoOrg("society", OrgKind.EXPERT_SOCIETY, "示例生物医学工程学会（虚构）",
            "Example Society of Biomedical Engineering (made up)"),
    DemoOrg("univ_a", OrgKind.HOSPITAL, "示例医科大学（虚构）", "Example Medical University (made up)",
            province="Shanghai"),
]

# username, display name, roles, organisation key
USERS = [
    ("admin", "系统管理员 Admin", [Role.ADMIN], "cmde"),
    ("office", "审查办 张审评 (office reviewer)", [Role.REVIEWER], "cmde"),
    ("office2", "审查办 李审评 (office reviewer)", [Role.REVIEWER], "cmde"),
    ("province", "北京局 王初审 (provincial reviewer)", [Role.REVIEWER], "bj_bureau"),
    ("inspector", "检查员 赵核查 (inspector)", [Role.INSPECTOR], "bj_bureau"),
    ("monitor", "监测中心 周监测 (monitoring centre)", [Role.MONITORING_CENTRE], "adr"),
    ("registrant", "示例机器人 注册专员 (registrant)", [Role.REGISTRANT], "robotics"),
    ("registrant2", "示例影像 注册专员 (registrant)", [Role.REGISTRANT], "imaging"),
    ("overseas", "Example Neurotech RA (registrant)", [Role.REGISTRANT], "overseas"),
    ("hospital", "示例医院 设备科 (hospital)", [Role.HOSPITAL], "hospital"),
    ("expert1", "专家 陈教授 (expert)", [Role.EXPERT], "society"),
    ("expert2", "专家 刘主任 (expert)", [Role.EXPERT], "univ_a"),
    ("expert3", "专家 孙研究员 (expert)", [Role.EXPERT], "society"),
    ("expert4", "专家 吴教授 (expert)", [Role.EXPERT], "hospital"),
]


def load_accounts(session: Session) -> dict[str, Organisation]:
    """Organisations and one user per role (idempotent)."""
    orgs: dict[str, Organisation] = {}
    for o in ORGS:
        org = session.scalar(select(Organisation).where(Organisation.name == o.name))
        if org is None:
            org = Organisation(kind=str(o.kind), name=o.name, name_en=o.name_en, country=o.country,
                               province=o.province)
            session.add(org)
            session.flush()
        orgs[o.key] = org
    pw = hash_password(DEMO_PASSWORD)
    for username, display, roles, org_key in USERS:
        if session.scalar(select(User).where(User.username == username)) is None:
            user = User(username=username, display_name=display, password_hash=pw,
                        organisation=orgs[org_key])
            user.role_rows = [UserRole(role=str(r)) for r in roles]
            session.add(user)
    session.flush()
    return orgs


def demo_actor(session: Session, username: str) -> Actor:
    user = session.scalar(select(User).where(User.username == username))
    return Actor.from_user(user)


def load(session: Session) -> None:
    reference.load_all(session, Actor.system())
    load_accounts(session)
    from medreg.demo.cases import load_cases  # applications in different states

    load_cases(session)
    from medreg.demo.ai import load_ai  # a synthetic sealed evaluation database and three runs

    load_ai(session, demo_actor(session, "office"), demo_actor(session, "registrant2"))
    from medreg.vigilance import demo as vigilance_demo  # made-up adverse-event reports

    if not vigilance_demo.loaded(session):
        vigilance_demo.load(session)
    from medreg.surveillance import demo_load as surveillance_demo  # made-up implant registry

    if not surveillance_demo.loaded(session):
        surveillance_demo.load_demo(session, Actor.system())
    from medreg.signals import demo as signals_demo  # a configured analysis and its first run

    if not signals_demo.loaded(session):
        signals_demo.load(session, demo_actor(session, "monitor"))
    from medreg.catalog import demo as catalog_demo  # the shipped catalogue, made-up 分类界定 requests
    from medreg.core.clock import today_shanghai

    catalog_demo.load(session, lambda u: demo_actor(session, u), DEMO_PASSWORD, today_shanghai())


def logins_table() -> Table:
    table = Table(title=f"Demo logins (made-up data) — password for all: {DEMO_PASSWORD}")
    table.add_column("username")
    table.add_column("role")
    table.add_column("who")
    for username, display, roles, _ in USERS:
        table.add_row(username, ", ".join(str(r) for r in roles), display)
    return table


@app.command("load")
def load_command() -> None:
    """Load the reference data and the made-up demo data set (safe to run twice)."""
    with session_scope() as session:
        load(session)
    console = Console()
    console.print(logins_table())
    console.print("Open http://127.0.0.1:8000 and sign in with one of the logins above.")


@app.command("logins")
def logins_command() -> None:
    """Print the demo logins again."""
    Console().print(logins_table())
