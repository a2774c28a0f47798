"""The embedded model: Qwen2.5-Coder-1.5B-Instruct run in-process by llama-cpp-python, its weights and grammar."""
