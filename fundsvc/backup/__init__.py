"""Backups proven by restoring them (README "Backups"): `flask backup create | verify | restore`."""
