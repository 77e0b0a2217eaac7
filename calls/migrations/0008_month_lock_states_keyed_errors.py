"""A locked month is approved (until HR reopens it) or closed (for good); the locks written so far are
closed ones. The error reports kept so far show customer numbers masked, as new ones do."""

from django.db import migrations, models


def mask_errors(apps, schema_editor):
    from calls.privacy import customer_mask

    ImportBatch = apps.get_model("calls", "ImportBatch")
    for batch in ImportBatch.objects.exclude(errors=[]).only("pk", "errors").iterator():
        if any(e.get("column") == "customer_number" and e.get("value") for e in batch.errors):
            for error in batch.errors:
                if error.get("column") == "customer_number":
                    error["value"] = customer_mask(error.get("value") or "")
            batch.save(update_fields=["errors"])


class Migration(migrations.Migration):

    dependencies = [
        ('calls', '0007_ready_made_mappings'),
    ]

    operations = [
        migrations.AlterModelOptions(
            name='monthlock',
            options={'verbose_name': 'locked month', 'verbose_name_plural': 'locked months'},
        ),
        migrations.AddField(
            model_name='monthlock',
            name='state',
            field=models.CharField(choices=[('approved', 'Approved: HR must reopen it first'), ('closed', 'Closed: corrections go into the next open month')], default='closed', max_length=10),
        ),
        migrations.AddConstraint(
            model_name='monthlock',
            constraint=models.CheckConstraint(condition=models.Q(('state__in', ['approved', 'closed'])), name='month_lock_state'),
        ),
        migrations.RunPython(mask_errors, migrations.RunPython.noop),
    ]
