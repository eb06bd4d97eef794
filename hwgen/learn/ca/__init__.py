"""A logic-gate cellular automaton's rule as torch modules: training and hardening it."""
