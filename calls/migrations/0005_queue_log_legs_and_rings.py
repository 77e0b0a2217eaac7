"""queue_log as Asterisk defines it: ring attempts (RINGNOANSWER) as facts of their own, the legs a file
left open for the next file of the log, and calls refused by a queue (JOINEMPTY, FULL).

On PostgreSQL also: the ring attempts' key compares bytes (as the calls' key, migration 0003), and the
calls' and ring attempts' times get a BRIN index, which per-queue figures over a month read (all of the
month's calls, whoever answered them) instead of the whole table. A BRIN index is a few pages summing up
ranges of the table: imports, which append in time order month after month, hardly pay for it, where a
B-tree on the time would cost every imported row.
"""

import django.db.models.deletion
from django.db import migrations, models


def postgres_only(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    schema_editor.execute(
        'ALTER TABLE calls_ringattempt ALTER COLUMN source TYPE varchar(50) COLLATE "C", '
        'ALTER COLUMN external_id TYPE varchar(150) COLLATE "C"'
    )
    schema_editor.execute("CREATE INDEX call_started_brin ON calls_call USING brin (started_at)")
    schema_editor.execute("CREATE INDEX ring_rang_brin ON calls_ringattempt USING brin (rang_at)")


def postgres_only_undone(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    schema_editor.execute("DROP INDEX IF EXISTS call_started_brin")
    schema_editor.execute("DROP INDEX IF EXISTS ring_rang_brin")


class Migration(migrations.Migration):

    dependencies = [
        ('calls', '0004_mapping_date_format'),
        ('incentives', '0006_statement_lines_without_fk_check'),
    ]

    operations = [
        migrations.AlterField(
            model_name='call',
            name='outcome',
            field=models.CharField(blank=True, choices=[('resolved', 'Resolved'), ('converted', 'Converted'), ('appointment', 'Appointment made'), ('callback', 'Callback requested'), ('abandoned', 'Abandoned'), ('hung_up', 'Hung up'), ('no_answer', 'Not answered'), ('refused', 'Refused by the queue (full or no agent)'), ('other', 'Other')], max_length=20, verbose_name='outcome'),
        ),
        migrations.CreateModel(
            name='QueueLogLeg',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('source', models.CharField(max_length=50, verbose_name='source')),
                ('callid', models.CharField(max_length=100, verbose_name='call id')),
                ('queue', models.CharField(max_length=100, verbose_name='queue')),
                ('entered_at', models.DateTimeField(verbose_name='entered queue at')),
                ('state', models.JSONField(default=dict)),
                ('closed_at', models.DateTimeField(blank=True, null=True)),
                ('filename', models.CharField(max_length=255, verbose_name='file name')),
                ('line', models.PositiveIntegerField(verbose_name='line')),
                ('batch', models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='+', to='calls.importbatch')),
            ],
            options={
                'verbose_name': 'queue_log call left open',
                'verbose_name_plural': 'queue_log calls left open',
                'indexes': [models.Index(fields=['source', 'entered_at'], name='queue_log_leg_entered')],
                'constraints': [models.UniqueConstraint(fields=('source', 'callid', 'queue', 'entered_at', 'batch'), name='queue_log_leg_unique_per_batch')],
            },
        ),
        migrations.CreateModel(
            name='RingAttempt',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('source', models.CharField(max_length=50, verbose_name='source')),
                ('external_id', models.CharField(max_length=150, verbose_name='id in the source')),
                ('queue', models.CharField(blank=True, max_length=100, verbose_name='queue')),
                ('call_ref', models.CharField(blank=True, max_length=100, verbose_name='call id')),
                ('rang_at', models.DateTimeField(verbose_name='rang from')),
                ('ring_ms', models.PositiveIntegerField(verbose_name='rang for (ms)')),
                ('agent', models.ForeignKey(db_constraint=False, db_index=False, on_delete=django.db.models.deletion.PROTECT, related_name='+', to='incentives.agent')),
                ('batch', models.ForeignKey(db_constraint=False, db_index=False, on_delete=django.db.models.deletion.PROTECT, related_name='+', to='calls.importbatch')),
            ],
            options={
                'verbose_name': 'ring without answer',
                'verbose_name_plural': 'rings without answer',
                'indexes': [models.Index(fields=['agent', 'rang_at'], name='ring_agent_rang')],
                'constraints': [models.UniqueConstraint(fields=('source', 'external_id'), name='ring_unique_per_source')],
            },
        ),
        migrations.RunPython(postgres_only, postgres_only_undone),
    ]
