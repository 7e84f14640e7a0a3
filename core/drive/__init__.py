"""The cloud drive of each fan: folders, files, tags, trash, search, share links, quota."""
