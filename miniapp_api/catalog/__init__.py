"""Mini App tool store: browse, search, favourites, quotes and runs."""
