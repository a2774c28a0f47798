"""The one seam to a model: the `Backend` protocol, which backend a run uses (`resolve.py`), the
OpenAI-compatible and embedded backends, the transport retry layer, and in-memory test doubles."""
