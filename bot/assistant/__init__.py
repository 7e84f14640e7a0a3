"""The assistant: free text to the LLM (or the offline planner), plans run as workflows."""
