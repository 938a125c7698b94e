"""Cross-cutting pieces every module builds on: settings, database sessions, errors, pagination."""
