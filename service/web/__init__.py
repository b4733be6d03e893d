"""Pages and static assets the app serves itself (closed networks: no CDN)."""
