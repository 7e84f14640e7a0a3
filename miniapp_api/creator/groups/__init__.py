"""The creator's groups and channels: ``/api/v1/creator/groups``."""
