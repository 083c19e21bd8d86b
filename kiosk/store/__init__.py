"""The kiosk's local SQLite store: models, engine set-up and migrations."""
