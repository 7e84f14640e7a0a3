"""``/api/v1/creator/users``: the bot's fans, searchable, with each fan's detail, history and
conversation with the bot."""
