"""The pure tracking core: no I/O, no clock, no environment; policy, time and keys are inputs.

May import only the standard library and ``sendtrail.errors`` (whose exceptions it raises);
an import-linter contract keeps web, ORM, GraphQL and settings out.
"""

from sendtrail.tracking.core.policy import TrackingPolicy

__all__ = ["TrackingPolicy"]
