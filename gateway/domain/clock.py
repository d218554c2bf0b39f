"""Time in China: one zone, UTC+8 all year (no daylight saving since 1991), named Asia/Shanghai.

Days that rules count by (per-day caps, clearing windows) are days in this zone.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta, timezone

CHINA = timezone(timedelta(hours=8), "Asia/Shanghai")


def china_day(at: datetime) -> date:
    return at.astimezone(CHINA).date()
