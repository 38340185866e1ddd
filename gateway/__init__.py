"""The edges of code4: MQTT session, HTTP app, command line, settings and logging."""
