"""Cases (办件): intake, timeline, and what the sides involved may read."""
