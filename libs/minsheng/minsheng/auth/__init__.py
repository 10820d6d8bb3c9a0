"""Who may do what: bearer tokens (stored hashed), roles, and the permission rules."""
