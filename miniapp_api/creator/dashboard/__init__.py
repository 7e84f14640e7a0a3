"""``/api/v1/creator/dashboard``: key numbers, the bot's status and recent activity."""
