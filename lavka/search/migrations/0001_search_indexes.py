"""Search indexes, per database.

PostgreSQL: pg_trgm GIN indexes on the folded search text (substring and typo
matching) and a GIN expression index of the Russian + English full-text vectors
(word forms). SQLite: FTS5 tables with the trigram tokenizer over the same text,
kept in step with the client and person tables by triggers."""

from typing import Any

from django.db import migrations

TSVECTOR = (
    "(to_tsvector('russian'::regconfig, search_text) || "
    "to_tsvector('english'::regconfig, search_text))"
)

PG_FORWARD = [
    "CREATE EXTENSION IF NOT EXISTS pg_trgm",
    "CREATE INDEX IF NOT EXISTS search_client_trgm ON clients_client "
    "USING gin (search_text gin_trgm_ops)",
    f"CREATE INDEX IF NOT EXISTS search_client_fts ON clients_client USING gin ({TSVECTOR})",
    "CREATE INDEX IF NOT EXISTS search_person_trgm ON clients_person "
    "USING gin (search_text gin_trgm_ops)",
    "CREATE INDEX IF NOT EXISTS search_contract_number_trgm ON clients_contract "
    "USING gin (lower(number) gin_trgm_ops)",
]
PG_REVERSE = [
    "DROP INDEX IF EXISTS search_contract_number_trgm",
    "DROP INDEX IF EXISTS search_person_trgm",
    "DROP INDEX IF EXISTS search_client_fts",
    "DROP INDEX IF EXISTS search_client_trgm",
]


def _sqlite_table(table: str) -> list[str]:
    fts = f"search_{table.removeprefix('clients_')}_fts"
    return [
        f"CREATE VIRTUAL TABLE IF NOT EXISTS {fts} USING fts5(search_text, "
        f"content='{table}', content_rowid='id', tokenize='trigram')",
        f"CREATE TRIGGER IF NOT EXISTS {fts}_ai AFTER INSERT ON {table} BEGIN "
        f"INSERT INTO {fts}(rowid, search_text) VALUES (new.id, new.search_text); END",
        f"CREATE TRIGGER IF NOT EXISTS {fts}_ad AFTER DELETE ON {table} BEGIN "
        f"INSERT INTO {fts}({fts}, rowid, search_text) "
        f"VALUES ('delete', old.id, old.search_text); END",
        f"CREATE TRIGGER IF NOT EXISTS {fts}_au AFTER UPDATE OF search_text ON {table} BEGIN "
        f"INSERT INTO {fts}({fts}, rowid, search_text) "
        f"VALUES ('delete', old.id, old.search_text); "
        f"INSERT INTO {fts}(rowid, search_text) VALUES (new.id, new.search_text); END",
        f"INSERT INTO {fts}({fts}) VALUES ('rebuild')",
    ]


def _sqlite_drop(table: str) -> list[str]:
    fts = f"search_{table.removeprefix('clients_')}_fts"
    return [
        f"DROP TRIGGER IF EXISTS {fts}_ai",
        f"DROP TRIGGER IF EXISTS {fts}_ad",
        f"DROP TRIGGER IF EXISTS {fts}_au",
        f"DROP TABLE IF EXISTS {fts}",
    ]


SQLITE_FORWARD = _sqlite_table("clients_client") + _sqlite_table("clients_person")
SQLITE_REVERSE = _sqlite_drop("clients_person") + _sqlite_drop("clients_client")


def _run(statements: dict[str, list[str]]) -> Any:
    def run(apps: Any, schema_editor: Any) -> None:
        for sql in statements.get(schema_editor.connection.vendor, []):
            schema_editor.execute(sql)

    return run


class Migration(migrations.Migration):
    dependencies = [("clients", "0005_clientmerge_duplicatecandidate")]

    operations = [
        migrations.RunPython(
            _run({"postgresql": PG_FORWARD, "sqlite": SQLITE_FORWARD}),
            _run({"postgresql": PG_REVERSE, "sqlite": SQLITE_REVERSE}),
        )
    ]
