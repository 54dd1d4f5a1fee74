"""On PostgreSQL the staging table of order imports is UNLOGGED: millions of staged
lines are not written to the write-ahead log twice. After a database crash the table
comes back empty; the import notices (the run records how many lines it staged) and
stages the file again from the start."""

from django.db import migrations


def unlogged(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute("ALTER TABLE imports_orderimportline SET UNLOGGED")


def logged(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute("ALTER TABLE imports_orderimportline SET LOGGED")


class Migration(migrations.Migration):
    dependencies = [("imports", "0002_order_import_line")]

    operations = [migrations.RunPython(unlogged, logged)]
