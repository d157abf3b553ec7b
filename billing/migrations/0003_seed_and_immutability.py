"""Seed the 2025 ACS price book and the plans; make final invoices immutable in SQL.

Prices and plans are data: staff add new versions in the UI. The triggers refuse
UPDATE/DELETE of a final invoice, any change to the lines of a final invoice, and any
UPDATE/DELETE of billed-usage records. TRUNCATE is left alone (test flush).
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from django.db import migrations

TRIGGERS = """
CREATE OR REPLACE FUNCTION billing_invoice_frozen() RETURNS trigger AS $$
BEGIN
    IF OLD.status = 'final' THEN
        RAISE EXCEPTION 'final invoice % is immutable (% refused)', OLD.number, TG_OP
            USING ERRCODE = 'insufficient_privilege';
    END IF;
    IF TG_OP = 'DELETE' THEN RETURN OLD; END IF;
    RETURN NEW;
END;
$$ LANGUAGE plpgsql;
CREATE TRIGGER billing_invoice_frozen
    BEFORE UPDATE OR DELETE ON billing_invoice
    FOR EACH ROW EXECUTE FUNCTION billing_invoice_frozen();

CREATE OR REPLACE FUNCTION billing_invoiceline_frozen() RETURNS trigger AS $$
DECLARE
    inv_id bigint;
BEGIN
    IF TG_OP = 'INSERT' THEN inv_id := NEW.invoice_id; ELSE inv_id := OLD.invoice_id; END IF;
    IF EXISTS (SELECT 1 FROM billing_invoice WHERE id = inv_id AND status = 'final')
       OR (TG_OP = 'UPDATE' AND EXISTS (
           SELECT 1 FROM billing_invoice WHERE id = NEW.invoice_id AND status = 'final'))
    THEN
        RAISE EXCEPTION 'lines of a final invoice are immutable (% refused)', TG_OP
            USING ERRCODE = 'insufficient_privilege';
    END IF;
    IF TG_OP = 'DELETE' THEN RETURN OLD; END IF;
    RETURN NEW;
END;
$$ LANGUAGE plpgsql;
CREATE TRIGGER billing_invoiceline_frozen
    BEFORE INSERT OR UPDATE OR DELETE ON billing_invoiceline
    FOR EACH ROW EXECUTE FUNCTION billing_invoiceline_frozen();

CREATE OR REPLACE FUNCTION billing_append_only() RETURNS trigger AS $$
BEGIN
    RAISE EXCEPTION 'billed usage is append-only (% refused)', TG_OP
        USING ERRCODE = 'insufficient_privilege';
END;
$$ LANGUAGE plpgsql;
CREATE TRIGGER billing_billedusage_append_only
    BEFORE UPDATE OR DELETE ON billing_billedusage
    FOR EACH ROW EXECUTE FUNCTION billing_append_only();
"""

DROP = """
DROP TRIGGER IF EXISTS billing_invoice_frozen ON billing_invoice;
DROP TRIGGER IF EXISTS billing_invoiceline_frozen ON billing_invoiceline;
DROP TRIGGER IF EXISTS billing_billedusage_append_only ON billing_billedusage;
DROP FUNCTION IF EXISTS billing_invoice_frozen();
DROP FUNCTION IF EXISTS billing_invoiceline_frozen();
DROP FUNCTION IF EXISTS billing_append_only();
"""

PLANS = [
    ("lite", "Lite", "ライトプラン", 10000, 0),
    ("standard", "Standard", "スタンダードプラン", 30000, 0),
    ("premium", "Premium", "プレミアムプラン", 80000, 0),
]


def seed(apps, schema_editor) -> None:
    if schema_editor.connection.schema_name != "public":
        return
    PriceVersion = apps.get_model("billing", "PriceVersion")
    Plan = apps.get_model("billing", "Plan")
    PriceVersion.objects.get_or_create(
        effective_from=date(2025, 1, 1),
        defaults={
            "email_usd": Decimal("0.00025"),
            "megabyte_usd": Decimal("0.00012"),
            "note": "ACS Email list price (email-pricing.md)",
            "entered_by": "migration",
        },
    )
    for code, name, name_ja, fee, included in PLANS:
        Plan.objects.get_or_create(
            code=code,
            defaults={
                "name": name,
                "name_ja": name_ja,
                "monthly_fee_jpy": fee,
                "included_emails": included,
            },
        )


class Migration(migrations.Migration):
    dependencies = [("billing", "0002_billing_core")]

    operations = [
        migrations.RunSQL(TRIGGERS, DROP),
        migrations.RunPython(seed, migrations.RunPython.noop),
    ]
