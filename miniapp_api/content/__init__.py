"""The fan's feed of posts and the signed route that serves post media."""
