"""Placeholder: this built-in adapter is being written."""
