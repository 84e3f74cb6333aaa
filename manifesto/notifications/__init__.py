"""Notifications: who hears about what, in the app and by email (now or in a daily digest)."""
