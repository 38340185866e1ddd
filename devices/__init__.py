"""The device protocol (topics and payloads) and what code4 knows about devices."""
