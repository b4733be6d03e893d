"""Catalog reads for terminals and staff: which items a district may accept, and where they go."""
