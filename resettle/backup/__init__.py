"""Backups of the database and what it archives: `flask backup create|verify|restore`."""
