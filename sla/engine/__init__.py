"""The clock engine (pure core): events, metric definitions, the clock state
machine, judging, and batch and incremental evaluation."""
