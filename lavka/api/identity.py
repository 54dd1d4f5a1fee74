"""Who am I, and the user directory (for assigning owners)."""

from django.http import HttpRequest
from ninja import Router, Schema
from ninja.pagination import paginate

from lavka.api.pagination import LimitOffset
from lavka.identity.access import Area, scope_for
from lavka.identity.selectors import users_visible_to

router = Router(tags=["users"])


class MeOut(Schema):
    id: int
    username: str
    full_name: str
    email: str
    team: str | None
    role: str | None
    language: str
    access: dict[str, dict[str, str]]
    capabilities: list[str]


class UserOut(Schema):
    id: int
    username: str
    first_name: str
    last_name: str
    team_id: int | None
    is_active: bool


@router.get("/me", response=MeOut, operation_id="get_me")
def get_me(request: HttpRequest):  # type: ignore[no-untyped-def]
    user = request.user
    return {
        "id": user.pk,
        "username": user.username,  # type: ignore[union-attr]
        "full_name": user.get_full_name(),  # type: ignore[union-attr]
        "email": user.email,  # type: ignore[union-attr]
        "team": user.team.name if user.team else None,  # type: ignore[union-attr]
        "role": user.role.code if user.role else None,  # type: ignore[union-attr]
        "language": user.language,  # type: ignore[union-attr]
        "access": {
            str(a): {"read": scope_for(user, a, "read"), "write": scope_for(user, a, "write")}
            for a in Area
        },
        "capabilities": list(user.role.capabilities if user.role else []),  # type: ignore[union-attr]
    }


@router.get("/users", response=list[UserOut], operation_id="list_users")
@paginate(LimitOffset)
def list_users(request: HttpRequest):  # type: ignore[no-untyped-def]
    return users_visible_to(request.user).order_by("username")
