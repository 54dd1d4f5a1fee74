"""Per-column counters of the board (DealColumnTotal), kept by triggers on sales_deal.

A trigger, not the services, keeps them: deals change outside the sales services too
(the trash's generic restore, client merges, bulk imports, the demo's bulk inserts),
and a counter that one of those forgot would show a wrong number on the board. The
statements are fixed text (no parameters), one set per database.
"""

import django.db.models.deletion
from django.db import migrations, models

KEY = "stage_id, owner_id, team_id, currency"

POSTGRES_CREATE = [
    f"""
    CREATE OR REPLACE FUNCTION sales_deal_column_add(
        p_stage bigint, p_owner bigint, p_team bigint, p_currency varchar, p_n bigint,
        p_amount numeric
    ) RETURNS void LANGUAGE sql AS $$
        INSERT INTO sales_dealcolumntotal ({KEY}, deals, amount)
        VALUES (p_stage, p_owner, COALESCE(p_team, 0), p_currency, p_n, p_amount)
        ON CONFLICT ({KEY}) DO UPDATE
        SET deals = sales_dealcolumntotal.deals + EXCLUDED.deals,
            amount = sales_dealcolumntotal.amount + EXCLUDED.amount
    $$
    """,
    # Taking a deal away only updates an existing row, never creates one: when every
    # table is emptied at once (a flush), the deals may go after their counters and
    # stages, and a new counter row would then point at a stage that is gone.
    f"""
    CREATE OR REPLACE FUNCTION sales_deal_column_sub(
        p_stage bigint, p_owner bigint, p_team bigint, p_currency varchar, p_amount numeric
    ) RETURNS void LANGUAGE sql AS $$
        UPDATE sales_dealcolumntotal
        SET deals = deals - 1, amount = amount - p_amount
        WHERE stage_id = p_stage AND owner_id = p_owner AND team_id = COALESCE(p_team, 0)
          AND currency = p_currency
    $$
    """,
    # An update touches the lower stage's row first, so two moves in opposite
    # directions lock the two rows in the same order and cannot deadlock.
    """
    CREATE OR REPLACE FUNCTION sales_deal_column_total() RETURNS trigger
    LANGUAGE plpgsql AS $$
    BEGIN
        IF TG_OP = 'INSERT' THEN
            IF NEW.deleted_at IS NULL THEN
                PERFORM sales_deal_column_add(NEW.stage_id, NEW.owner_id, NEW.team_id,
                                              NEW.currency, 1, NEW.amount);
            END IF;
        ELSIF TG_OP = 'DELETE' THEN
            IF OLD.deleted_at IS NULL THEN
                PERFORM sales_deal_column_sub(OLD.stage_id, OLD.owner_id, OLD.team_id,
                                              OLD.currency, OLD.amount);
            END IF;
        ELSIF OLD.stage_id <= NEW.stage_id THEN
            IF OLD.deleted_at IS NULL THEN
                PERFORM sales_deal_column_sub(OLD.stage_id, OLD.owner_id, OLD.team_id,
                                              OLD.currency, OLD.amount);
            END IF;
            IF NEW.deleted_at IS NULL THEN
                PERFORM sales_deal_column_add(NEW.stage_id, NEW.owner_id, NEW.team_id,
                                              NEW.currency, 1, NEW.amount);
            END IF;
        ELSE
            IF NEW.deleted_at IS NULL THEN
                PERFORM sales_deal_column_add(NEW.stage_id, NEW.owner_id, NEW.team_id,
                                              NEW.currency, 1, NEW.amount);
            END IF;
            IF OLD.deleted_at IS NULL THEN
                PERFORM sales_deal_column_sub(OLD.stage_id, OLD.owner_id, OLD.team_id,
                                              OLD.currency, OLD.amount);
            END IF;
        END IF;
        RETURN NULL;
    END
    $$
    """,
    """
    CREATE TRIGGER sales_deal_column_total_insert_delete
    AFTER INSERT OR DELETE ON sales_deal
    FOR EACH ROW EXECUTE FUNCTION sales_deal_column_total()
    """,
    """
    CREATE TRIGGER sales_deal_column_total_update
    AFTER UPDATE OF stage_id, owner_id, team_id, currency, amount, deleted_at ON sales_deal
    FOR EACH ROW
    WHEN (OLD.stage_id IS DISTINCT FROM NEW.stage_id
          OR OLD.owner_id IS DISTINCT FROM NEW.owner_id
          OR OLD.team_id IS DISTINCT FROM NEW.team_id
          OR OLD.currency IS DISTINCT FROM NEW.currency
          OR OLD.amount IS DISTINCT FROM NEW.amount
          OR (OLD.deleted_at IS NULL) <> (NEW.deleted_at IS NULL))
    EXECUTE FUNCTION sales_deal_column_total()
    """,
]
POSTGRES_DROP = [
    "DROP TRIGGER IF EXISTS sales_deal_column_total_update ON sales_deal",
    "DROP TRIGGER IF EXISTS sales_deal_column_total_insert_delete ON sales_deal",
    "DROP FUNCTION IF EXISTS sales_deal_column_total()",
    "DROP FUNCTION IF EXISTS sales_deal_column_sub(bigint, bigint, bigint, varchar, numeric)",
    "DROP FUNCTION IF EXISTS sales_deal_column_add(bigint, bigint, bigint, varchar, bigint,"
    " numeric)",
]


def _sqlite_add(row: str, sign: str) -> str:
    """Statements adding `row` (NEW or OLD) to its counter with `sign` (+ or -)."""
    key = (
        f"stage_id = {row}.stage_id AND owner_id = {row}.owner_id"
        f" AND team_id = COALESCE({row}.team_id, 0) AND currency = {row}.currency"
    )
    # Taking away (`-`) only updates an existing row: see sales_deal_column_sub.
    create = (
        f"INSERT OR IGNORE INTO sales_dealcolumntotal ({KEY}, deals, amount)"
        f" SELECT {row}.stage_id, {row}.owner_id, COALESCE({row}.team_id, 0),"
        f" {row}.currency, 0, 0 WHERE {row}.deleted_at IS NULL;"
        if sign == "+"
        else ""
    )
    return (
        f"{create}"
        f" UPDATE sales_dealcolumntotal SET deals = deals {sign} 1,"
        f" amount = amount {sign} {row}.amount WHERE {key} AND {row}.deleted_at IS NULL;"
    )


SQLITE_CREATE = [
    "CREATE TRIGGER sales_deal_column_total_insert AFTER INSERT ON sales_deal"
    f" BEGIN {_sqlite_add('NEW', '+')} END",
    "CREATE TRIGGER sales_deal_column_total_delete AFTER DELETE ON sales_deal"
    f" BEGIN {_sqlite_add('OLD', '-')} END",
    "CREATE TRIGGER sales_deal_column_total_update"
    " AFTER UPDATE OF stage_id, owner_id, team_id, currency, amount, deleted_at ON sales_deal"
    f" BEGIN {_sqlite_add('OLD', '-')} {_sqlite_add('NEW', '+')} END",
]
SQLITE_DROP = [
    "DROP TRIGGER IF EXISTS sales_deal_column_total_insert",
    "DROP TRIGGER IF EXISTS sales_deal_column_total_delete",
    "DROP TRIGGER IF EXISTS sales_deal_column_total_update",
]

FILL = (
    f"INSERT INTO sales_dealcolumntotal ({KEY}, deals, amount)"
    " SELECT stage_id, owner_id, COALESCE(team_id, 0), currency, COUNT(*), SUM(amount)"
    " FROM sales_deal WHERE deleted_at IS NULL"
    " GROUP BY stage_id, owner_id, COALESCE(team_id, 0), currency"
)


def create_triggers(apps, schema_editor):
    postgres = schema_editor.connection.vendor == "postgresql"
    for statement in POSTGRES_CREATE if postgres else SQLITE_CREATE:
        schema_editor.execute(statement, params=None)
    schema_editor.execute(FILL, params=None)


def drop_triggers(apps, schema_editor):
    postgres = schema_editor.connection.vendor == "postgresql"
    for statement in POSTGRES_DROP if postgres else SQLITE_DROP:
        schema_editor.execute(statement, params=None)


class Migration(migrations.Migration):
    dependencies = [
        ("sales", "0002_default_pipeline"),
    ]

    operations = [
        migrations.CreateModel(
            name="DealColumnTotal",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                ("owner_id", models.BigIntegerField()),
                ("team_id", models.BigIntegerField(default=0)),
                ("currency", models.CharField(max_length=3)),
                ("deals", models.BigIntegerField(default=0)),
                ("amount", models.DecimalField(decimal_places=2, default=0, max_digits=24)),
                (
                    "stage",
                    models.ForeignKey(
                        db_index=False,
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="+",
                        to="sales.stage",
                    ),
                ),
            ],
            options={
                "constraints": [
                    models.UniqueConstraint(
                        fields=("stage", "owner_id", "team_id", "currency"),
                        name="deal_column_total_key",
                    )
                ],
            },
        ),
        migrations.RunPython(create_triggers, drop_triggers),
    ]
