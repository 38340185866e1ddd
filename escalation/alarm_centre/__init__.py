"""An alarm receiving centre as an outside contact: the SIA DC-09 messages code4 sends to it
(`dc09`) and the table that says which standard event each of code4's alarms becomes (`events`).

Pure: no sockets and no clock. Timestamps are passed in, and the only randomness is the
padding that DC-09 encryption asks for.
"""
