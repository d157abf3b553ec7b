"""Delivery analytics: ingestion (ingest.py), reads (selectors.py), charts, bounce
explanations and alerts."""
