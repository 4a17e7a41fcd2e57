"""CarbonScope: registry hub, carbon analyst and REDD+ baseline engine for the voluntary carbon market."""

__version__ = "0.1.0"
