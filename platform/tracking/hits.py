"""The hot path's record of a request; defined in the pure core, which derives from it."""

from sendtrail.tracking.core.raw_hit import RawHit

__all__ = ["RawHit"]
