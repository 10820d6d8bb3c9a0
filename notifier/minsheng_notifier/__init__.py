"""The notifier: who is told what, when, and through which channel (docs/decisions/0021-notifier.md)."""
