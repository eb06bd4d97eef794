"""The golden model: the evaluator every other stage is checked against, and its C kernel."""
