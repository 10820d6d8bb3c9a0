"""Identity at the gateway: accounts (people and systems), sign-in sessions, API keys, and the
short-lived signed tokens the gateway forwards to the campaign services."""
