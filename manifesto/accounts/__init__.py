"""People: accounts, roles and login."""
