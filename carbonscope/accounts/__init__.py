"""User accounts: registration, passwords (Argon2), sessions, API tokens, throttling, resets, roles."""
