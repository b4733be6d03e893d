"""The catalog: districts, agreements between them, and the items they cover."""
