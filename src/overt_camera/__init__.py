"""overt-camera: the camera-side agent (being built)."""
