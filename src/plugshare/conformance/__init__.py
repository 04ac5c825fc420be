"""The conformance suite: requirement-traced checks with stable ids, run against a live API or an adapter.

See model.py for what a run is made of, registry.py for how checks are collected through the plugin host,
and runner.py for how verdicts are reached.
"""
