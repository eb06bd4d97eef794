"""The flow: the config schema and its defaults, `hwgen build`, and the reports it writes."""
