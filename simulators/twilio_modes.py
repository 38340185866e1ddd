"""What the local Twilio-compatible server (twilio_server) can be told to do with a number,
and the local account a demo uses: kept apart from the server so that the command line can
offer them as choices without loading the web stack."""

from __future__ import annotations

LOCAL_SID = "AC" + "0" * 32
LOCAL_FROM = "+3197010000000"
LOCAL_PORT = 8090

SMS_FAILURES = {"undelivered": 30003, "failed": 30008}  # mode -> Twilio's error code
CALL_FAILURES = ("busy", "no-answer", "failed")
TROUBLE = ("5xx", "slow")  # how the API itself answers, for either channel
SMS_MODES = ("deliver", *SMS_FAILURES, *TROUBLE)
VOICE_MODES = ("answer", *CALL_FAILURES, *TROUBLE)
