"""Mini App jobs: the fan's generations, their outputs, cancelling, live progress (SSE)."""
