"""``/broadcast`` for the tenant's owner and co-admins: a short guided flow in chat."""
