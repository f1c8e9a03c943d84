"""The power lab: how often the gate catches a known regression on a busy machine."""
