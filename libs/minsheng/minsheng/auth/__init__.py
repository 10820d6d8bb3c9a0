"""Who may do what in a service: the gateway's signed tokens (verified here), roles, and the permission rules."""
