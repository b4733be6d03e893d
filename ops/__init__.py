"""Running Tongban: the embedded servers and the one-command launcher."""
