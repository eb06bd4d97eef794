"""The example configs (shipped as package data: hwgen.configs; `hwgen configs` lists and writes them)."""
