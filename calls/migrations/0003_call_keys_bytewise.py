"""On PostgreSQL, the call's unique key (source, id in the source) compares bytes ("C" collation).

Keys are identifiers, never sorted for people, and equality is byte equality under any deterministic
collation anyway; comparing bytes instead of going through the locale makes the unique index, which every
imported call enters, about a third cheaper to maintain. SQLite has no such collation and compares bytes
already. Django does not know of this collation: an ``AlterField`` on these columns must keep it.
"""

from django.db import migrations

COLUMNS = (("source", 50), ("external_id", 100))


def bytewise(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    alters = ", ".join(f'ALTER COLUMN {c} TYPE varchar({n}) COLLATE "C"' for c, n in COLUMNS)
    schema_editor.execute(f"ALTER TABLE calls_call {alters}")


def by_locale(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    alters = ", ".join(f"ALTER COLUMN {c} TYPE varchar({n}) COLLATE pg_catalog.default" for c, n in COLUMNS)
    schema_editor.execute(f"ALTER TABLE calls_call {alters}")


class Migration(migrations.Migration):
    dependencies = [("calls", "0002_call_keys_without_checks")]

    operations = [migrations.RunPython(bytewise, by_locale)]
