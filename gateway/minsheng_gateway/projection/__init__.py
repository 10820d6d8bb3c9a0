"""The gateway's read models: folded from the campaign services' events, rebuildable from the topics."""
