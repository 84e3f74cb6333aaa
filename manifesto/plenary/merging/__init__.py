"""The merge workspace (#18): a moderator merges a section's open amendments, change by change, into one version.

``text.combine`` lays out and composes the changes (pure); ``services.py``
starts, autosaves, takes over, discards and completes a merge (one new
version and every decision in one transaction); ``views.py`` the workspace,
its public read-only view and that view's live fragment; ``display.py`` what
the pages show of the changes. ``plenary/__init__.py`` registers the
blueprint and ``services.changed_parts``.
"""

