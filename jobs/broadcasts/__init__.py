"""Broadcasts: a creator's message to many fans, sent by the worker at the bot's own limits.

``service`` holds the rules the creator panel and the bot's ``/broadcast`` share; ``sender``
is the worker's side (exactly once per fan, resumable after a crash); ``ratelimit`` the Redis
token bucket per bot, the shared 429 pause and the daily plan quota; ``progress`` the live
counters on Redis pub/sub.
"""
