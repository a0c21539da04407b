"""Who is acting: the principal every service call receives (tenancy lives in services)."""

from __future__ import annotations

from dataclasses import dataclass, field

from medreg.core.accounts import OrgKind, Role


@dataclass(frozen=True)
class Actor:
    user_id: int | None
    username: str
    roles: frozenset[str] = field(default_factory=frozenset)
    organisation_id: int | None = None
    organisation_kind: str | None = None
    province: str | None = None
    display_name: str = ""

    @classmethod
    def public(cls) -> Actor:
        return cls(user_id=None, username="public", roles=frozenset({Role.PUBLIC}))

    @classmethod
    def system(cls) -> Actor:
        """Background jobs and data loaders acting on their own (audited as 'system')."""
        return cls(user_id=None, username="system", roles=frozenset({Role.ADMIN}))

    @classmethod
    def from_user(cls, user) -> Actor:
        org = user.organisation
        return cls(
            user_id=user.id,
            username=user.username,
            roles=user.roles,
            organisation_id=org.id if org else None,
            organisation_kind=org.kind if org else None,
            province=org.province if org else None,
            display_name=user.display_name,
        )

    @property
    def is_public(self) -> bool:
        return self.user_id is None and Role.PUBLIC in self.roles

    def has(self, role: str) -> bool:
        return role in self.roles

    @property
    def workflow_roles(self) -> frozenset[str]:
        """Roles as the transition tables name them.

        A reviewer acts for the national office (``office``) or for a provincial bureau
        (``province``) depending on the organisation it belongs to.
        """
        out = set(self.roles)
        if Role.REVIEWER in self.roles:
            if self.organisation_kind == OrgKind.PROVINCIAL_BUREAU:
                out.add("province")
            elif self.organisation_kind == OrgKind.REGULATOR_UNIT:
                out.add("office")
        return frozenset(out)
