"""A run's chunk holds whole teams, as many as fit a number of agents, instead of exactly one team."""

from django.db import migrations, models


def one_team_each(apps, schema_editor):
    RunChunk = apps.get_model("incentives", "RunChunk")
    Through = RunChunk.teams.through
    Through.objects.bulk_create(
        Through(runchunk_id=chunk.pk, team_id=chunk.team_id) for chunk in RunChunk.objects.all()
    )


def first_team(apps, schema_editor):
    RunChunk = apps.get_model("incentives", "RunChunk")
    for chunk in RunChunk.objects.all():
        chunk.team_id = chunk.teams.order_by("pk").values_list("pk", flat=True).first()
        chunk.save(update_fields=["team"])


class Migration(migrations.Migration):
    dependencies = [("incentives", "0003_reviews")]

    operations = [
        migrations.AddField(
            model_name="runchunk",
            name="teams",
            field=models.ManyToManyField(related_name="+", to="incentives.team"),
        ),
        migrations.RunPython(one_team_each, first_team),
        migrations.RemoveConstraint(model_name="runchunk", name="run_chunk_team_unique"),
        migrations.AlterField(
            model_name="runchunk",
            name="team",
            field=models.ForeignKey(null=True, on_delete=models.PROTECT, related_name="+", to="incentives.team"),
        ),
        migrations.RemoveField(model_name="runchunk", name="team"),
        migrations.AlterModelOptions(name="runchunk", options={"ordering": ["id"]}),
    ]
