"""The last router: unknown commands, stray text, stale buttons."""
