"""A conversation: a session joined to its audio and its observers (the sidecar and the terminal share it)."""
