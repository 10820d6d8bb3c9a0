"""审核: the city office's cross-campaign list of reports awaiting review, from the gateway's read models."""
