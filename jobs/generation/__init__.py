"""Generation jobs: create (price, reserve, enqueue), run on the worker, report progress, store
outputs in the user's drive, settle credits exactly once; and workflows chaining them.

Service functions live in :mod:`jobs.generation.service` and :mod:`jobs.generation.workflows`;
the worker side in :mod:`jobs.generation.runner` and :mod:`jobs.generation.tasks`.
"""
