"""Read-side queries shared by the CLI and the web API (SQLAlchemy Core, parameterised)."""
