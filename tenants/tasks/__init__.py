"""Tasks and XP: what fans do for rewards, verified on the server and rewarded exactly once.

``service`` holds the rules (shared by the bot's ``/tasks``, the fans' API and the creator
panel), ``repository`` the SQL, ``verify`` the Telegram checks, ``levels`` the XP ladder.
"""
