"""Creators buy plans and platform top-ups with Stars in the manager bot."""
