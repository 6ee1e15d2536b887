"""What a reporter types that is not an answer: navigation, the same on every screen."""

from __future__ import annotations

BACK, HOME, MORE = "0", "00", "98"
NAVIGATION_TOKENS = (BACK, HOME, MORE)
MAX_CHOICES = 97  # numbers from 98 up are navigation
