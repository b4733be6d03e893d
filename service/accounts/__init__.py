"""Who acts: service centers and their terminals, staff users, and how they authenticate."""
