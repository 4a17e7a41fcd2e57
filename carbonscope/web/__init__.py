"""The web site and REST API (FastAPI), served by ``carbonscope serve``."""
