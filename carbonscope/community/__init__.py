"""Community: proposed projects, comments, support and abuse reports, with ownership checked on every write."""
