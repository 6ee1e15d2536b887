"""Outgoing SMS: a durable outbox table, dispatched by RQ workers after the commit.

``dispatch`` queues a message (inside the caller's transaction) and hands committed rows to the
job queue; ``jobs`` is the function RQ runs; ``backends`` send (console, Africa's Talking);
``sweep`` re-queues what a lost job or a dead worker left behind; ``worker`` runs it all.
The rows themselves are written through ``storage.operations`` and read through
``storage.queries`` (their ``outbox`` modules).
"""
