"""The channels' own limits, on a clock the test moves: at most 20 messages a minute per robot (each robot its own
window), and robot text cut to the robot's size in bytes, never inside a character.  (钉钉's signature is checked by
the receiver of tests/notifier/test_channels.py.)"""

from __future__ import annotations

from minsheng_notifier.channels.base import RateWindow
from minsheng_notifier.channels.robots import WECOM_TEXT_BYTES, fit


def test_a_robot_takes_twenty_a_minute_and_another_robot_is_not_held_by_it():
    now = [1000.0]
    window = RateWindow(20, clock=lambda: now[0])
    assert all(window.wait("zd-wecom") == 0 for _ in range(20))
    assert window.wait("zd-wecom") == 60.0  # the 21st waits for the first to leave the minute
    assert window.wait("zc-wecom") == 0  # another group's robot
    now[0] += 30
    assert window.wait("zd-wecom") == 30.0
    now[0] += 30
    assert window.wait("zd-wecom") == 0


def test_robot_text_is_cut_to_its_bytes_on_a_character_boundary():
    text = "张店区逾期未报" * 200  # 3 bytes a character
    cut = fit(text, WECOM_TEXT_BYTES)
    assert len(cut.encode()) <= WECOM_TEXT_BYTES and cut.endswith("…")
    assert cut[:-1] == text[: len(cut) - 1]
    assert fit("短", WECOM_TEXT_BYTES) == "短"
