"""The ready-made column mappings of ``calls.importers.formats`` (Asterisk Master.csv, FreeSWITCH CDR
CSV, a generic ACD export with an answered flag); one HR has saved under the same name is left alone."""

from django.db import migrations


def create(apps, schema_editor):
    from calls.importers.formats import READY_MADE

    ColumnMapping = apps.get_model("calls", "ColumnMapping")
    for name, fields in READY_MADE.items():
        ColumnMapping.objects.get_or_create(name=name, defaults=fields)


def remove(apps, schema_editor):
    from calls.importers.formats import READY_MADE

    apps.get_model("calls", "ColumnMapping").objects.filter(name__in=list(READY_MADE)).delete()


class Migration(migrations.Migration):
    dependencies = [("calls", "0006_mappings_and_unknowns")]

    operations = [migrations.RunPython(create, remove)]
