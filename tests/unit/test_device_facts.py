"""What supervision keeps of a device in memory and what a device_status row stores are the
same fields: the stored row's columns and the copied names are derived, not listed again."""

from __future__ import annotations

from dataclasses import fields

from dispatcher.devicewatch import DeviceFacts
from dispatcher.store.schema import DeviceStatus


def test_the_facts_mirror_a_device_status_row() -> None:
    assert {f.name for f in fields(DeviceFacts)} == {c.name for c in DeviceStatus.__table__.columns}
