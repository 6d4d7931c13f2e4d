"""The pure tracking core: no I/O, no clock, no environment; policy, time and keys are inputs.

May import only the standard library (an import-linter contract enforces it).
"""

from sendtrail.tracking.core.policy import TrackingPolicy

__all__ = ["TrackingPolicy"]
