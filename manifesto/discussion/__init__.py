"""Discussion: comments on sections, passages and amendments, moderation, notifications and activity."""
