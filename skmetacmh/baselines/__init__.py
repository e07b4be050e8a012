"""Baseline cross-modal hashers, one module per method."""
