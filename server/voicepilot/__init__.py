"""VoicePilot: talk to your editor. Sidecar, realtime client and local realtime engine."""

__version__ = "0.1.0"
