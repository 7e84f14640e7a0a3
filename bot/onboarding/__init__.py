"""The platform's manager bot: creators connect (``/newbot``) and manage (``/mybots``) bots."""
