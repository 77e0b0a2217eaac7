"""The metric catalogue grew (calls.metrics): ring-no-answer rate and the queue metrics (answer rate,
ASA, service level, abandonment of a queue). Choices only: nothing changes in the database."""

from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('reports', '0003_idle_rules'),
    ]

    operations = [
        migrations.AlterField(
            model_name='alertrule',
            name='metric',
            field=models.CharField(choices=[('answer_rate', 'Answer rate'), ('asa', 'Average speed of answer'), ('service_level', 'Service level'), ('abandon_rate', 'Abandonment rate'), ('aht', 'Average handling time'), ('fcr', 'First-contact resolution'), ('first_correct_transfer', 'First-correct-transfer rate'), ('conversion_rate', 'Conversion rate'), ('time_to_convert', 'Time to convert'), ('invitation_success', 'Invitation success rate'), ('csat', 'CSAT'), ('nps', 'NPS'), ('complaint_rate', 'Complaint rate'), ('early_hangup_rate', 'Early hang-up rate'), ('effective_talk_ratio', 'Effective talk ratio'), ('repeat_contact_rate', 'Repeat-contact rate'), ('qa_score', 'QA score'), ('ring_no_answer_rate', 'Ring-no-answer rate'), ('queue_answer_rate', 'Queue answer rate'), ('queue_asa', 'Queue average speed of answer'), ('queue_service_level', 'Queue service level'), ('queue_abandon_rate', 'Queue abandonment rate')], max_length=40, verbose_name='metric'),
        ),
    ]
