"""Finding the passages for a question: dense + keyword hybrid search, and the keyword side."""
