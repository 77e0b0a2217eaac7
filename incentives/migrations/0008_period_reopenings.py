"""Reopening an approved month, with its reason (PeriodReopening); the months approved so far get the
lock the approval now writes (calls.MonthLock, approved): no import may change them until reopened."""

import django.db.models.deletion
import django.utils.timezone
from django.conf import settings
from django.db import migrations, models


def lock_approved_months(apps, schema_editor):
    Period = apps.get_model("incentives", "Period")
    MonthLock = apps.get_model("calls", "MonthLock")
    for period in Period.objects.filter(status="approved"):
        MonthLock.objects.get_or_create(
            year=period.year, month=period.month, defaults={"state": "approved"}
        )


class Migration(migrations.Migration):

    dependencies = [
        ('calls', '0008_month_lock_states_keyed_errors'),
        ('incentives', '0007_metric_choices_queue_metrics'),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.CreateModel(
            name='PeriodReopening',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('reason', models.TextField(verbose_name='reason')),
                ('reopened_at', models.DateTimeField(default=django.utils.timezone.now, verbose_name='reopened at')),
                ('approved_run', models.ForeignKey(help_text='The run approved until then.', on_delete=django.db.models.deletion.PROTECT, related_name='+', to='incentives.run')),
                ('period', models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name='reopenings', to='incentives.period')),
                ('reopened_by', models.ForeignKey(null=True, on_delete=django.db.models.deletion.PROTECT, related_name='+', to=settings.AUTH_USER_MODEL)),
            ],
            options={
                'verbose_name': 'reopened month',
                'verbose_name_plural': 'reopened months',
                'ordering': ['-reopened_at'],
                'constraints': [models.CheckConstraint(condition=models.Q(('reason', ''), _negated=True), name='period_reopening_has_reason')],
            },
        ),
        migrations.RunPython(lock_approved_months, migrations.RunPython.noop),
    ]
