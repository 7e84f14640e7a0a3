"""The fans' Tasks screen: tasks with their status, claims, XP and level, and app opens."""
