"""Amendments: propose, support, decide, and follow the text when it moves on."""
