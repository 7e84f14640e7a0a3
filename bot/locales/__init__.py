"""gettext catalogues of the bot: ``{en,tr,ru,ar}/LC_MESSAGES/messages.po`` (the ``.mo`` files
are build products, made by :mod:`bot.locales.compile`)."""
