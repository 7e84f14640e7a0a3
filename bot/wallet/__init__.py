"""The fan's credits as the chat shows them (``/balance``)."""
