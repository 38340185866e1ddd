"""The wall display: a read-only, full-screen view for a reception or the BHV room."""
