"""The document: its sections, and every version of each section."""
