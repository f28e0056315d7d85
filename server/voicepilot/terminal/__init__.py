"""The terminal front end: ``voicepilot talk`` and ``voicepilot devices``."""
