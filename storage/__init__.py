"""Persistence: reports in SQL (SQLAlchemy), conversation state in Redis.

``models`` defines the tables, ``operations`` is the one place that writes, ``queries`` the place
that reads. ``sessions`` keeps conversation state in Redis; ``phones`` pseudonymises numbers.
"""
