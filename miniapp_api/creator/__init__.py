"""The creator panel's API (``/api/v1/creator/...``): only the tenant's owner and co-admins.

Every creator area (content, VIP, tasks, stats, broadcasts, settings) takes ``CreatorDep``:
fans get 403, and since the tenant comes from the caller's own token, another tenant's
objects are simply not found (404).
"""
