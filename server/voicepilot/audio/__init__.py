"""Audio: frames, tracks, resampling, file input."""
