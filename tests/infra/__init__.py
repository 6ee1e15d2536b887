"""Real servers a test can break: its own ``redis-server`` and a TCP proxy in front of PostgreSQL."""
