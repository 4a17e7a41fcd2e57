"""Watchlists and alerts: watch projects, countries, methodologies or beneficiaries; each ingest's
change feed becomes notifications (in the app, by e-mail through the outbox, in a private Atom feed)."""
