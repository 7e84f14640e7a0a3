"""The creator's tasks: create and edit them, check the bot's rights in a channel, review
custom-task proofs, and set the XP levels."""
