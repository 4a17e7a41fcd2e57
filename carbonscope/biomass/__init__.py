"""Carbon analyst: forest above-ground biomass and carbon from satellite rasters with machine learning.

The steps (each usable from Python or from ``carbonscope biomass``): align layers on one grid
(:mod:`grid`, :mod:`layers`, :mod:`stac`), compute features (:mod:`features`), get labels
(:mod:`labels`: plots, biomass rasters, GEDI L4A), sample (:mod:`sampling`), train and validate
honestly (:mod:`models`, :mod:`validation`, :mod:`aoa`), map wall to wall (:mod:`predict`),
account for stock (:mod:`stock`), report (:mod:`report`); :mod:`run` chains them from a TOML file.
"""
