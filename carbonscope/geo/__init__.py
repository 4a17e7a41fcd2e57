"""Shared geospatial helpers: grids, pixel areas, vector zones."""
