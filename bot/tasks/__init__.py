"""``/tasks``: the fan's tasks with their status, XP and level, and a Check button each."""
