from rest_framework import serializers

from calls.models import ColumnMapping, ImportBatch


class ImportRequestSerializer(serializers.Serializer):
    file = serializers.FileField()
    kind = serializers.ChoiceField(choices=ColumnMapping.Kind.choices, default="calls")
    mapping = serializers.SlugRelatedField(
        slug_field="name", queryset=ColumnMapping.objects.all(), required=False, allow_null=True
    )
    source = serializers.CharField(max_length=50, required=False, allow_blank=True)
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
            "id", "kind", "source", "filename", "status", "message", "encoding", "partial", "rows_total",
            "rows_created", "rows_updated", "rows_unchanged", "rows_rejected", "errors", "created_at",
            "rolled_back_at", "progress",
        ]  # fmt: skip

    def get_progress(self, batch) -> dict | None:
        from django.core.cache import cache

        from calls.services import progress_key

        return cache.get(progress_key(batch.pk))
