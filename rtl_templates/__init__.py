"""HDL templates that the backends fill in (shipped as package data: hwgen.rtl_templates)."""
