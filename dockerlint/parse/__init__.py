"""Parsers: one module per format, each turning text into immutable data with exact
spans. A parse problem is returned as data (``source.Problem``), never raised."""
