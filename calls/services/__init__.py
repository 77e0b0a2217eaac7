"""Everything that writes call data: imports (all sources, all kinds of facts), rollbacks, month locks.

One module per subject, from the bottom up (each imports only those above it in this list):

- ``month_locks``: approving, closing or reopening a month, and the lock an import or a rollback holds;
- ``imports``: one file of facts imported as one batch (``batch_create``, ``facts_import``);
- ``batches``: a batch's rollback, and what becomes of its uploaded file (retention);
- ``queue_logs``: an Asterisk queue_log imported, and the legs it leaves open for the next file;
- ``workers``: an upload queued, a batch run by the worker that claims it, the watchdog's import half.

The names other code uses are imported here, so ``from calls.services import facts_import`` works as
before. A test that patches a module's constant or function patches it in the module that looks it up
(``calls.services.month_locks.MONTH_LOCK_WAIT_SECONDS``), not here.
"""

from calls.services.batches import (
    FINAL_STATES,
    KEPT_FOLDER,
    RollbackRefused,
    batch_file_settle,
    batch_rollback,
    batch_rollback_check,
    import_files_sweep,
    preview_forget,
    preview_keep,
    preview_take,
    previews_sweep,
)
from calls.services.imports import ImportRefused, batch_create, facts_import
from calls.services.month_locks import MonthBusy, MonthClosed, month_lock, month_unlock
from calls.services.queue_logs import legs_keep, legs_restored, queue_log_import, queue_log_sniff
from calls.services.workers import batch_run, import_leases_sweep, progress_key, upload_accept

__all__ = [
    "FINAL_STATES",
    "KEPT_FOLDER",
    "ImportRefused",
    "MonthBusy",
    "MonthClosed",
    "RollbackRefused",
    "batch_create",
    "batch_file_settle",
    "batch_rollback",
    "batch_rollback_check",
    "batch_run",
    "facts_import",
    "import_files_sweep",
    "import_leases_sweep",
    "legs_keep",
    "legs_restored",
    "month_lock",
    "month_unlock",
    "preview_forget",
    "preview_keep",
    "preview_take",
    "previews_sweep",
    "progress_key",
    "queue_log_import",
    "queue_log_sniff",
    "upload_accept",
]
