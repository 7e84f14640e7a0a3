"""The creator's post editor: ``/api/v1/creator/content``."""
