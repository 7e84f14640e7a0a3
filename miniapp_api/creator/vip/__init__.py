"""The creator's VIP packages and subscribers: ``/api/v1/creator/vip``."""
