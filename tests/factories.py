"""factory_boy factories for the test suite. Users get an unusable password unless a
test sets one, so that tests do not pay for argon2 on every user."""

from __future__ import annotations

import factory

from lavka.clients.models import Client
from lavka.identity.models import Role, Team, User


class TeamFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Team
        skip_postgeneration_save = True

    name = factory.Sequence(lambda n: f"Team {n}")
    parent = None

    @factory.post_generation
    def set_path(obj, create, extracted, **kwargs):
        obj.path = f"{obj.parent.path if obj.parent else '/'}{obj.pk}/"
        obj.save(update_fields=["path"])


def role(code: str) -> Role:
    """A built-in role; transactional tests flush the data migration's rows, so recreate."""
    from lavka.identity.roles import builtin_role_name, default_capabilities, default_grants

    found, _ = Role.objects.get_or_create(
        code=code,
        defaults={
            "name": builtin_role_name(code),
            "grants": default_grants(code),
            "capabilities": default_capabilities(code),
            "is_builtin": True,
        },
    )
    return found


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = User
        skip_postgeneration_save = True

    username = factory.Sequence(lambda n: f"user{n}")
    email = factory.LazyAttribute(lambda o: f"{o.username}@example.com")
    first_name = "Test"
    last_name = factory.Sequence(lambda n: f"User{n}")
    team = factory.SubFactory(TeamFactory)
    role = factory.LazyFunction(lambda: role("sales_rep"))
    password = "!unusable"


class ClientFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Client

    name = factory.Sequence(lambda n: f"Client {n}")
    kind = Client.Kind.ORGANISATION
    email = factory.Sequence(lambda n: f"client{n}@example.org")
    owner = factory.SubFactory(UserFactory)
    team = factory.LazyAttribute(lambda o: o.owner.team)


TIER_DEFAULTS = {
    "vip": ("VIP", 10, 14),
    "affiliated": ("Affiliated", 20, 30),
    "mass": ("Mass", 30, 90),
}


def tier(code: str):
    """A default tier; transactional tests flush the data migration's rows, so recreate."""
    from lavka.clients.models import Tier

    name, order, norm = TIER_DEFAULTS[code]
    found, _ = Tier.objects.get_or_create(
        code=code,
        defaults={
            "name": name,
            "order": order,
            "contact_norm_days": norm,
            "is_default": code == "mass",
        },
    )
    return found
