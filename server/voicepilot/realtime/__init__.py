"""Realtime API client: endpoints, keys, transports, events, session manager."""
