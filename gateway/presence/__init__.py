"""Presence: who is in the building (dispatcher/presence.py): the API, the kiosk and the board page."""
