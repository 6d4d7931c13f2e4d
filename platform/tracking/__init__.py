"""The shared tracking engine: a pure core (``tracking.core``) and thin adapters around it."""
