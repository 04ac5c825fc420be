"""The published standard: where its files are, how they are generated from the models, its catalogue."""
