"""``/api/v1/creator/settings`` and ``/api/v1/creator/plan``: languages, welcome text, referral
reward, credit packs, tool prices, and the plan's limits with usage."""
