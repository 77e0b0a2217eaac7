import datetime as dt

from rest_framework import serializers

from calls.models import ColumnMapping, ImportBatch


class ImportRequestSerializer(serializers.Serializer):
    file = serializers.FileField()
    kind = serializers.ChoiceField(choices=ColumnMapping.Kind.choices, default="calls")
    mapping = serializers.SlugRelatedField(
        slug_field="name", queryset=ColumnMapping.objects.all(), required=False, allow_null=True
    )
    # The import's source; DRF's metaclass takes declared fields off the class, so it shadows nothing.
    source = serializers.CharField(max_length=50, required=False, allow_blank=True)  # type: ignore[assignment]
    queue_log = serializers.BooleanField(default=False)
    period = serializers.RegexField(r"^\d{4}-(0[1-9]|1[0-2])$", required=False, allow_blank=True)
    allow_partial = serializers.BooleanField(default=False)

    def validate(self, data):
        if not data.get("mapping") and not data.get("source"):
            raise serializers.ValidationError("Give a saved column mapping or the source.")
        return data


class ImportBatchSerializer(serializers.ModelSerializer):
    progress = serializers.SerializerMethodField()

    class Meta:
        model = ImportBatch
        fields = [
            "id",
            "kind",
            "source",
            "filename",
            "status",
            "message",
            "encoding",
            "partial",
            "rows_total",
            "rows_created",
            "rows_updated",
            "rows_unchanged",
            "rows_rejected",
            "errors",
            "created_at",
            "rolled_back_at",
            "progress",
            "leased_by",
            "lease_expires",
            "claims",
        ]
        # The worker importing it, until when (renewed while it lives), and how many workers took it.
        read_only_fields = ["leased_by", "lease_expires", "claims"]

    def get_progress(self, batch) -> dict | None:
        from django.core.cache import cache

        from calls.services import progress_key

        return cache.get(progress_key(batch.pk))


class QueueFiguresQuerySerializer(serializers.Serializer):
    """Which period: a month (YYYY-MM), or days from ``start`` to ``end`` (both included, the
    center's calendar); this month so far when neither is given."""

    # Years a contact center's data can hold: the first and the last years of the calendar do not even
    # have their month's boundaries in every time zone (a 500 once, found by schemathesis).
    month = serializers.RegexField(r"^(19|2\d)\d{2}-(0[1-9]|1[0-2])$", required=False)
    start = serializers.DateField(required=False)
    end = serializers.DateField(required=False)
    queue = serializers.CharField(max_length=100, required=False, allow_blank=True, default="")
    answer_within_seconds = serializers.IntegerField(min_value=1, max_value=600, default=20)
    short_abandon_seconds = serializers.IntegerField(min_value=0, max_value=120, default=5)

    def validate(self, data):
        days = (data.get("start"), data.get("end"))
        if data.get("month") and any(days):
            raise serializers.ValidationError("Give a month or days (start and end), not both.")
        if any(days) and not all(days):
            raise serializers.ValidationError("Give both start and end.")
        if any(day and not 1900 <= day.year <= 2999 for day in days):
            raise serializers.ValidationError("Days from 1900 to 2999.")
        if all(days) and not days[0] <= days[1] <= days[0] + dt.timedelta(days=366):
            raise serializers.ValidationError("end must be on or after start, within a year.")
        return data


class QueueFiguresSerializer(serializers.Serializer):
    queue = serializers.CharField()
    offered = serializers.IntegerField()
    answered = serializers.IntegerField()
    abandoned = serializers.IntegerField()
    abandoned_short = serializers.IntegerField()
    refused = serializers.IntegerField()
    transfers = serializers.IntegerField()
    rings = serializers.IntegerField()
    answer_rate = serializers.DecimalField(max_digits=9, decimal_places=4, allow_null=True)
    abandon_rate = serializers.DecimalField(max_digits=9, decimal_places=4, allow_null=True)
    asa = serializers.DecimalField(max_digits=12, decimal_places=4, allow_null=True)
    service_level = serializers.DecimalField(max_digits=9, decimal_places=4, allow_null=True)


class QueueFiguresPageSerializer(serializers.Serializer):
    """What ``GET queues/figures/`` answers: the period asked and each queue's figures over it."""

    start = serializers.DateTimeField(help_text="The period's first instant (included).")
    end = serializers.DateTimeField(help_text="The period's end (excluded).")
    answer_within_seconds = serializers.IntegerField()
    short_abandon_seconds = serializers.IntegerField()
    queues = QueueFiguresSerializer(many=True)
