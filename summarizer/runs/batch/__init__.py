"""Batch routes: the provider's Batch API, and request files for `vllm run-batch` (export / import)."""
