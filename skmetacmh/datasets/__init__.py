"""Datasets: benchmark loaders, a synthetic generator and the long-tail protocol."""

from ._frequency import frequency_groups

__all__ = ["frequency_groups"]
