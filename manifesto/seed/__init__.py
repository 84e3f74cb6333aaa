"""Data to start from: the demo manifesto (``seed-demo``) and a convention-sized event (``seed-scale``).

Everything is written through the services, as people would write it, so
the seeds exercise the same rules, locks and stored diffs as real use.
"""
