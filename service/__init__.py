"""Tongban's Flask service: intake, cases, access, and the HTTP API."""
