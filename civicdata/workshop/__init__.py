"""Workshops: the room votes with dots and writes notes; the app keeps the record.

:mod:`civicdata.store` (SQLAlchemy engine, schema, transactions) → ``model`` (actions) → ``record`` (exports).
"""
