"""Measured classification (R30, issue 17): a labelled corpus of hit sequences replayed
through the real deriver core, and the precision and recall it gives.

``corpus`` reads and expands the corpus files (``tests/data/hits/*.toml``, described in
that folder's README), ``replay`` derives each sequence hit by hit with
``tracking.core.derive.decide`` (the classifier and the burst rule the deriver runs), and
``figures`` counts what came out against the labels. ``python -m sendtrail.tracking.accuracy``
(``make accuracy``) prints the figures and writes ``docs/accuracy.md`` and the recorded
figures a test holds every later change to. May import the standard library and
``sendtrail.tracking.core`` / ``sendtrail.tracking.signals``.
"""
