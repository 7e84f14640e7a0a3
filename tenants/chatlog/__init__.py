"""A fan's conversation with the bot: recorded on its way in and out (:mod:`.record`), moved from
a Redis stream into ``chat_messages`` by a worker cron (:mod:`.service`), read by the creator
panel a page at a time."""
