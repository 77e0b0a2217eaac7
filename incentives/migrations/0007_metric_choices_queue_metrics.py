"""The metric catalogue grew (calls.metrics): ring-no-answer rate and the queue metrics (answer rate,
ASA, service level, abandonment of a queue). Choices only: nothing changes in the database."""

from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('incentives', '0006_statement_lines_without_fk_check'),
    ]

    operations = [
        migrations.AlterField(
            model_name='actionitem',
            name='metric',
            field=models.CharField(blank=True, choices=[('answer_rate', 'Answer rate'), ('asa', 'Average speed of answer'), ('service_level', 'Service level'), ('abandon_rate', 'Abandonment rate'), ('aht', 'Average handling time'), ('fcr', 'First-contact resolution'), ('first_correct_transfer', 'First-correct-transfer rate'), ('conversion_rate', 'Conversion rate'), ('time_to_convert', 'Time to convert'), ('invitation_success', 'Invitation success rate'), ('csat', 'CSAT'), ('nps', 'NPS'), ('complaint_rate', 'Complaint rate'), ('early_hangup_rate', 'Early hang-up rate'), ('effective_talk_ratio', 'Effective talk ratio'), ('repeat_contact_rate', 'Repeat-contact rate'), ('qa_score', 'QA score'), ('ring_no_answer_rate', 'Ring-no-answer rate'), ('queue_answer_rate', 'Queue answer rate'), ('queue_asa', 'Queue average speed of answer'), ('queue_service_level', 'Queue service level'), ('queue_abandon_rate', 'Queue abandonment rate')], help_text="Next month's review shows how this metric changed since.", max_length=40, verbose_name='metric it should move'),
        ),
        migrations.AlterField(
            model_name='agreedtarget',
            name='metric',
            field=models.CharField(choices=[('answer_rate', 'Answer rate'), ('asa', 'Average speed of answer'), ('service_level', 'Service level'), ('abandon_rate', 'Abandonment rate'), ('aht', 'Average handling time'), ('fcr', 'First-contact resolution'), ('first_correct_transfer', 'First-correct-transfer rate'), ('conversion_rate', 'Conversion rate'), ('time_to_convert', 'Time to convert'), ('invitation_success', 'Invitation success rate'), ('csat', 'CSAT'), ('nps', 'NPS'), ('complaint_rate', 'Complaint rate'), ('early_hangup_rate', 'Early hang-up rate'), ('effective_talk_ratio', 'Effective talk ratio'), ('repeat_contact_rate', 'Repeat-contact rate'), ('qa_score', 'QA score'), ('ring_no_answer_rate', 'Ring-no-answer rate'), ('queue_answer_rate', 'Queue answer rate'), ('queue_asa', 'Queue average speed of answer'), ('queue_service_level', 'Queue service level'), ('queue_abandon_rate', 'Queue abandonment rate')], max_length=40, verbose_name='metric'),
        ),
        migrations.AlterField(
            model_name='plangate',
            name='metric',
            field=models.CharField(choices=[('answer_rate', 'Answer rate'), ('asa', 'Average speed of answer'), ('service_level', 'Service level'), ('abandon_rate', 'Abandonment rate'), ('aht', 'Average handling time'), ('fcr', 'First-contact resolution'), ('first_correct_transfer', 'First-correct-transfer rate'), ('conversion_rate', 'Conversion rate'), ('time_to_convert', 'Time to convert'), ('invitation_success', 'Invitation success rate'), ('csat', 'CSAT'), ('nps', 'NPS'), ('complaint_rate', 'Complaint rate'), ('early_hangup_rate', 'Early hang-up rate'), ('effective_talk_ratio', 'Effective talk ratio'), ('repeat_contact_rate', 'Repeat-contact rate'), ('qa_score', 'QA score'), ('ring_no_answer_rate', 'Ring-no-answer rate'), ('queue_answer_rate', 'Queue answer rate'), ('queue_asa', 'Queue average speed of answer'), ('queue_service_level', 'Queue service level'), ('queue_abandon_rate', 'Queue abandonment rate')], max_length=40, verbose_name='metric'),
        ),
        migrations.AlterField(
            model_name='planmetric',
            name='metric',
            field=models.CharField(choices=[('answer_rate', 'Answer rate'), ('asa', 'Average speed of answer'), ('service_level', 'Service level'), ('abandon_rate', 'Abandonment rate'), ('aht', 'Average handling time'), ('fcr', 'First-contact resolution'), ('first_correct_transfer', 'First-correct-transfer rate'), ('conversion_rate', 'Conversion rate'), ('time_to_convert', 'Time to convert'), ('invitation_success', 'Invitation success rate'), ('csat', 'CSAT'), ('nps', 'NPS'), ('complaint_rate', 'Complaint rate'), ('early_hangup_rate', 'Early hang-up rate'), ('effective_talk_ratio', 'Effective talk ratio'), ('repeat_contact_rate', 'Repeat-contact rate'), ('qa_score', 'QA score'), ('ring_no_answer_rate', 'Ring-no-answer rate'), ('queue_answer_rate', 'Queue answer rate'), ('queue_asa', 'Queue average speed of answer'), ('queue_service_level', 'Queue service level'), ('queue_abandon_rate', 'Queue abandonment rate')], max_length=40, verbose_name='metric'),
        ),
        migrations.AlterField(
            model_name='rootcause',
            name='metric',
            field=models.CharField(choices=[('answer_rate', 'Answer rate'), ('asa', 'Average speed of answer'), ('service_level', 'Service level'), ('abandon_rate', 'Abandonment rate'), ('aht', 'Average handling time'), ('fcr', 'First-contact resolution'), ('first_correct_transfer', 'First-correct-transfer rate'), ('conversion_rate', 'Conversion rate'), ('time_to_convert', 'Time to convert'), ('invitation_success', 'Invitation success rate'), ('csat', 'CSAT'), ('nps', 'NPS'), ('complaint_rate', 'Complaint rate'), ('early_hangup_rate', 'Early hang-up rate'), ('effective_talk_ratio', 'Effective talk ratio'), ('repeat_contact_rate', 'Repeat-contact rate'), ('qa_score', 'QA score'), ('ring_no_answer_rate', 'Ring-no-answer rate'), ('queue_answer_rate', 'Queue answer rate'), ('queue_asa', 'Queue average speed of answer'), ('queue_service_level', 'Queue service level'), ('queue_abandon_rate', 'Queue abandonment rate')], max_length=40, verbose_name='metric'),
        ),
        migrations.AlterField(
            model_name='statementgate',
            name='metric',
            field=models.CharField(choices=[('answer_rate', 'Answer rate'), ('asa', 'Average speed of answer'), ('service_level', 'Service level'), ('abandon_rate', 'Abandonment rate'), ('aht', 'Average handling time'), ('fcr', 'First-contact resolution'), ('first_correct_transfer', 'First-correct-transfer rate'), ('conversion_rate', 'Conversion rate'), ('time_to_convert', 'Time to convert'), ('invitation_success', 'Invitation success rate'), ('csat', 'CSAT'), ('nps', 'NPS'), ('complaint_rate', 'Complaint rate'), ('early_hangup_rate', 'Early hang-up rate'), ('effective_talk_ratio', 'Effective talk ratio'), ('repeat_contact_rate', 'Repeat-contact rate'), ('qa_score', 'QA score'), ('ring_no_answer_rate', 'Ring-no-answer rate'), ('queue_answer_rate', 'Queue answer rate'), ('queue_asa', 'Queue average speed of answer'), ('queue_service_level', 'Queue service level'), ('queue_abandon_rate', 'Queue abandonment rate')], max_length=40),
        ),
        migrations.AlterField(
            model_name='statementline',
            name='metric',
            field=models.CharField(choices=[('answer_rate', 'Answer rate'), ('asa', 'Average speed of answer'), ('service_level', 'Service level'), ('abandon_rate', 'Abandonment rate'), ('aht', 'Average handling time'), ('fcr', 'First-contact resolution'), ('first_correct_transfer', 'First-correct-transfer rate'), ('conversion_rate', 'Conversion rate'), ('time_to_convert', 'Time to convert'), ('invitation_success', 'Invitation success rate'), ('csat', 'CSAT'), ('nps', 'NPS'), ('complaint_rate', 'Complaint rate'), ('early_hangup_rate', 'Early hang-up rate'), ('effective_talk_ratio', 'Effective talk ratio'), ('repeat_contact_rate', 'Repeat-contact rate'), ('qa_score', 'QA score'), ('ring_no_answer_rate', 'Ring-no-answer rate'), ('queue_answer_rate', 'Queue answer rate'), ('queue_asa', 'Queue average speed of answer'), ('queue_service_level', 'Queue service level'), ('queue_abandon_rate', 'Queue abandonment rate')], max_length=40),
        ),
        migrations.AlterField(
            model_name='targetoverride',
            name='metric',
            field=models.CharField(choices=[('answer_rate', 'Answer rate'), ('asa', 'Average speed of answer'), ('service_level', 'Service level'), ('abandon_rate', 'Abandonment rate'), ('aht', 'Average handling time'), ('fcr', 'First-contact resolution'), ('first_correct_transfer', 'First-correct-transfer rate'), ('conversion_rate', 'Conversion rate'), ('time_to_convert', 'Time to convert'), ('invitation_success', 'Invitation success rate'), ('csat', 'CSAT'), ('nps', 'NPS'), ('complaint_rate', 'Complaint rate'), ('early_hangup_rate', 'Early hang-up rate'), ('effective_talk_ratio', 'Effective talk ratio'), ('repeat_contact_rate', 'Repeat-contact rate'), ('qa_score', 'QA score'), ('ring_no_answer_rate', 'Ring-no-answer rate'), ('queue_answer_rate', 'Queue answer rate'), ('queue_asa', 'Queue average speed of answer'), ('queue_service_level', 'Queue service level'), ('queue_abandon_rate', 'Queue abandonment rate')], max_length=40, verbose_name='metric'),
        ),
    ]
