"""Workshops: the room votes with dots and writes notes; the app keeps the record.

``store`` (SQLAlchemy engine, schema, transactions) → ``model`` (actions) → ``record`` (exports).
"""
