"""Analyses: a recipe run on a boundary as a background job.

``inputs`` validates a request (boundary, layers by role, parameters) against the limits;
``sources`` names the data a layer can come from; ``recipes/`` turns a request into an engine
configuration (the REDD+ baseline, the carbon analyst, or both) and the engine's results into one
``results.json``; ``store`` keeps each job's row (status, progress, log); ``runner`` runs one job
in a worker; ``queue`` hands jobs to workers (Celery: embedded SQLite broker, Redis or RabbitMQ);
``tiles`` cuts map tiles from a result's COG. The web pages, API, CLI and plugin stay thin over it.
"""
