"""Carbon-market news: RSS/Atom feeds and JSON item dumps, deduplicated, linked to projects,
countries and methodologies with a confidence a person can confirm or remove."""
