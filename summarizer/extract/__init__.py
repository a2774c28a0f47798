"""One article → one `ArticleSummary`: prompts, the request plan, chunking, merging, and the summarizer."""
