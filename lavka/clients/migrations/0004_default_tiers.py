from django.db import migrations

TIERS = [
    # code, name, order, contact norm (days), colour, default
    ("vip", "VIP", 10, 14, "accent", False),
    ("affiliated", "Affiliated", 20, 30, "good", False),
    ("mass", "Mass", 30, 90, "neutral", True),
]


def create_tiers(apps, schema_editor):
    Tier = apps.get_model("clients", "Tier")
    for code, name, order, norm, colour, is_default in TIERS:
        Tier.objects.get_or_create(
            code=code,
            defaults={"name": name, "order": order, "contact_norm_days": norm,
                      "colour": colour, "is_default": is_default},
        )


def remove_tiers(apps, schema_editor):
    apps.get_model("clients", "Tier").objects.filter(
        code__in=[t[0] for t in TIERS], clients__isnull=True
    ).delete()


class Migration(migrations.Migration):
    dependencies = [("clients", "0003_client_base")]
    operations = [migrations.RunPython(create_tiers, remove_tiers)]
