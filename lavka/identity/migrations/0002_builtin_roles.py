from django.db import migrations

# Frozen copy of the built-in roles as first installed; later changes to the defaults
# come as their own migrations so that an administrator's edits are not overwritten.
SCOPES_ALL = {"read": "all", "write": "all"}
AREAS = ["clients", "sales", "keyaccounts", "marketing", "service", "analytics", "automation"]
CAPABILITIES = ["manage_users", "manage_roles", "view_audit", "manage_trash", "manage_settings",
                "use_api"]


def g(read, write):
    return {"read": read, "write": write}


ROLES = {
    "administrator": ("Administrator", {a: dict(SCOPES_ALL) for a in AREAS}, CAPABILITIES),
    "sales_manager": ("Sales manager", {
        "clients": g("team_and_below", "team_and_below"),
        "sales": g("team_and_below", "team_and_below"),
        "keyaccounts": g("team_and_below", "team_and_below"),
        "marketing": g("all", "none"),
        "service": g("team_and_below", "none"),
        "analytics": g("team_and_below", "none"),
        "automation": g("none", "none"),
    }, ["use_api"]),
    "sales_rep": ("Sales rep", {
        "clients": g("team", "own"),
        "sales": g("own", "own"),
        "keyaccounts": g("own", "own"),
        "marketing": g("none", "none"),
        "service": g("own", "none"),
        "analytics": g("own", "none"),
        "automation": g("none", "none"),
    }, ["use_api"]),
    "marketer": ("Marketer", {
        "clients": g("all", "none"),
        "sales": g("none", "none"),
        "keyaccounts": g("none", "none"),
        "marketing": g("all", "all"),
        "service": g("none", "none"),
        "analytics": g("all", "none"),
        "automation": g("all", "team"),
    }, ["use_api"]),
    "service_agent": ("Service agent", {
        "clients": g("all", "own"),
        "sales": g("none", "none"),
        "keyaccounts": g("none", "none"),
        "marketing": g("none", "none"),
        "service": g("all", "team"),
        "analytics": g("none", "none"),
        "automation": g("none", "none"),
    }, ["use_api"]),
    "analyst": ("Analyst", {
        "clients": g("all", "none"),
        "sales": g("all", "none"),
        "keyaccounts": g("all", "none"),
        "marketing": g("all", "none"),
        "service": g("all", "none"),
        "analytics": g("all", "all"),
        "automation": g("all", "none"),
    }, ["use_api"]),
}


def create_roles(apps, schema_editor):
    Role = apps.get_model("identity", "Role")
    for code, (name, grants, capabilities) in ROLES.items():
        Role.objects.get_or_create(
            code=code,
            defaults={"name": name, "grants": grants, "capabilities": capabilities,
                      "is_builtin": True},
        )


def remove_roles(apps, schema_editor):
    Role = apps.get_model("identity", "Role")
    Role.objects.filter(code__in=list(ROLES), users__isnull=True).delete()


class Migration(migrations.Migration):
    dependencies = [("identity", "0001_initial")]
    operations = [migrations.RunPython(create_roles, remove_roles)]
