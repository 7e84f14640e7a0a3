"""Referrals: invite links (``/invite``), attribution on ``/start ref_<code>``, rewards."""
