"""The groups, supergroups and channels a tenant's bot manages, and the plan's ``max_groups``."""
