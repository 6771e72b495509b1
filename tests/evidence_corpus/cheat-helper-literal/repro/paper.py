"""Figures reported in the paper."""
GAIN = 8.7
