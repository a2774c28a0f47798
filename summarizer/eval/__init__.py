"""Quality against hand-made gold: the gold format, the metrics, and the naive baseline."""
