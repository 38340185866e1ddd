"""Black-box clients for testers: buttons, pagers, load. They speak only the protocol."""
