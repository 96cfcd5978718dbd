"""The console's one registry of log types: built-in schemas, SLUICE_SCHEMAS_DIR, tile metadata."""
