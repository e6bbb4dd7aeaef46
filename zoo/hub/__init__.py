"""Preset hub: resolution, download, verification, saving, upload, model cards."""
