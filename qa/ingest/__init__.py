"""Getting documents in: reading files (a suffix -> reader registry), chunking, embedding at scale."""
