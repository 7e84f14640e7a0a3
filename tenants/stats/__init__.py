"""Stats of a tenant: fan activity days, daily rollups from events, the panel's numbers and the
bot's chart. Import the parts you need (``tenants.stats.activity`` is on the bot's hot path and
imports nothing heavy; ``tenants.stats.chart`` pulls in Pillow)."""
