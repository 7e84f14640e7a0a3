"""Premium content: posts, their media, access (free, VIP, pay-per-view, task), unlocks, views.

``service`` holds the rules (``grant_unlock`` is the entry point other areas call),
``repository`` the SQL, ``formatting`` the post text's safe HTML, ``links`` the signed media
links.
"""
