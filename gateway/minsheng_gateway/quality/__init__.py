"""数据质量 in the gateway (decision 0024): the rule failures folded from the services' events, for the review and the
city office's page."""
