"""Tenant admin: the creator panel's dashboard, fans and their history, settings and plan.

Rules live in ``service`` (dashboard, fans, history, plan usage) and ``settings`` (languages,
referral reward, credit packs, tool prices); ``repository`` holds the SQL.
"""
