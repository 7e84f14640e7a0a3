"""Generation from chat: direct commands, progress messages, results (issue 6)."""
