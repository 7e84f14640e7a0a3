"""The drive API: folders, files, uploads, trash, search, tags, share links, usage."""
