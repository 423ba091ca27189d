"""Thin HTTP clients for Zoho's APIs; no sync decisions live here."""
