"""Checks and assembly: drafts validated against their article, actor names, timeframes, evidence spans."""
