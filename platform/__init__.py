"""Sendtrail: self-hostable, multi-tenant email tracking and logging.

The source folder is ``platform/`` but the import name is ``sendtrail`` (docs/architecture.md):
a top-level ``platform`` would shadow the standard library module of that name.
"""

__version__ = "0.1.0"
