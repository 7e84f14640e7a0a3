"""The creator panel's broadcasts: compose, count the audience, preview, send, follow live."""
