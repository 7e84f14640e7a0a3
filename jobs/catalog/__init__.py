"""The AI tool catalogue: seeded from ``tools.json``, priced per tenant, validated per run.

Import the service functions from :mod:`jobs.catalog.service`.
"""
