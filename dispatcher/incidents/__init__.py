"""Incident records after the alarm: the registration form, aftercare, offenders and
sanctions, learning reports, privacy. Rules here are pure; the service applies them."""
