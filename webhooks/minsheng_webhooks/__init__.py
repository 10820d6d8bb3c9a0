"""Outbound webhooks (Standard Webhooks): decision 0023."""
