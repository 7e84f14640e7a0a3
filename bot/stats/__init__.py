"""``/stats`` for the creator and co-admins: a chart image and a summary of the last days."""
