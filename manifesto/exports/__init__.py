"""Exports: the text leaves the platform as PDF, DOCX, Markdown, HTML, plain text and a JSON archive."""
