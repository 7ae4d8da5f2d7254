"""customslab: an open laboratory information system for customs laboratories and their network."""

__version__ = "0.1.0"
