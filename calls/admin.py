from django.contrib import admin

from calls.models import (
    Call,
    ColumnMapping,
    ImportBatch,
    MonthLock,
    Queue,
    QueueLogLeg,
    RingAttempt,
)


@admin.register(ImportBatch)
class ImportBatchAdmin(admin.ModelAdmin):
    list_display = [
        "created_at",
        "source",
        "filename",
        "status",
        "rows_total",
        "rows_created",
        "rows_updated",
        "rows_unchanged",
        "rows_rejected",
    ]
    list_filter = ["status", "source"]
    readonly_fields = [field.name for field in ImportBatch._meta.fields]

    def has_add_permission(self, request):
        return False

    def has_delete_permission(self, request, obj=None):
        # An import is undone by its rollback (Import data → the batch), which checks the months'
        # locks and restores what it changed; its record is kept.
        return False


class _FactsReadOnly:
    """Facts are shown here, never written: they change only by an import (which records what it
    changed, ``FactChange``, and holds the month locks) or by rolling back their batch. A call typed in
    by hand would have no batch, no record of the change and no check against an approval under way."""

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(Call)
class CallAdmin(_FactsReadOnly, admin.ModelAdmin):
    list_display = [
        "external_id",
        "source",
        "agent",
        "direction",
        "started_at",
        "answered_at",
        "wait_seconds",
        "talk_seconds",
        "outcome",
    ]
    list_filter = ["source", "direction", "outcome", "complaint"]
    search_fields = ["external_id", "agent__employee_id"]
    raw_id_fields = ["agent", "batch"]
    date_hierarchy = "started_at"
    exclude = ["customer_key"]


@admin.register(ColumnMapping)
class ColumnMappingAdmin(admin.ModelAdmin):
    list_display = ["name", "kind", "source", "has_header", "fold_legs", "time_zone", "date_format"]
    list_filter = ["kind"]
    search_fields = ["name", "source"]


@admin.register(MonthLock)
class MonthLockAdmin(admin.ModelAdmin):
    """Approved and closed months are written by approving and closing a period, lifted by reopening
    it (Overview): shown here, never edited or deleted."""

    list_display = ["__str__", "state", "locked_at"]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(Queue)
class QueueAdmin(admin.ModelAdmin):
    list_display = ["code", "name"]
    search_fields = ["code", "name"]


@admin.register(RingAttempt)
class RingAttemptAdmin(_FactsReadOnly, admin.ModelAdmin):
    """Rings without answer, as imported (queue_log RINGNOANSWER); a rollback of their batch undoes them."""

    list_display = ["external_id", "source", "agent", "queue", "rang_at", "ring_ms"]
    list_filter = ["source", "queue"]
    search_fields = ["external_id", "call_ref", "agent__employee_id"]
    raw_id_fields = ["agent", "batch"]
    date_hierarchy = "rang_at"


@admin.register(QueueLogLeg)
class QueueLogLegAdmin(admin.ModelAdmin):
    """What each queue_log import left open (or finished of what an earlier one left): written by the
    imports, shown here, never edited."""

    list_display = [
        "callid",
        "queue",
        "source",
        "entered_at",
        "closed_at",
        "filename",
        "line",
        "batch",
    ]
    list_filter = ["source"]
    search_fields = ["callid"]
    readonly_fields = [field.name for field in QueueLogLeg._meta.fields]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False
