"""Placeholder: the pytest plugin for adapter authors is being written."""
