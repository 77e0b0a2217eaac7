"""The field's default alerts (domain: "Watching the floor"): complaint rate above 0.5% this month,
early hang-ups above 30% today, per agent. HR edits or switches them off in the admin."""

from decimal import Decimal

from django.db import migrations

DEFAULTS = [
    {"name": "Complaint rate above 0.5% this month", "metric": "complaint_rate", "comparison": "gt",
     "threshold": Decimal("0.5"), "level": "agent", "window": "month", "min_volume": 50},
    {"name": "Early hang-ups above 30% today", "metric": "early_hangup_rate", "comparison": "gt",
     "threshold": Decimal(30), "level": "agent", "window": "today", "min_volume": 10},
]


def create(apps, schema_editor):
    AlertRule = apps.get_model("reports", "AlertRule")
    for rule in DEFAULTS:
        AlertRule.objects.get_or_create(name=rule["name"], defaults=rule)


def remove(apps, schema_editor):
    apps.get_model("reports", "AlertRule").objects.filter(name__in=[r["name"] for r in DEFAULTS]).delete()


class Migration(migrations.Migration):
    dependencies = [("reports", "0001_alerts")]

    operations = [migrations.RunPython(create, remove)]
