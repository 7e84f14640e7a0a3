"""Mini App wallet: the fan's credits and their history."""
