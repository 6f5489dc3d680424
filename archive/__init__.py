"""The SQLite archive: schema (migrations), writes, the CLI and the Datasette plugin."""
