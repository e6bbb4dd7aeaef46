"""Whisper (Radford et al., 2022): speech recognition and translation."""
from zoo.models.whisper.backbone import WhisperBackbone  # noqa: F401
