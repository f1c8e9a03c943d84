"""A small order-processing service used as flamediff's sample load."""
