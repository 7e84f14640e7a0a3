"""``/api/v1/creator/stats``: series and key numbers for the panel's charts, from rollups."""
