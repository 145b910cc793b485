"""overt-camera: the camera-side agent. It captures with a pre-event buffer, records
fragmented MP4 segments, signs a manifest for each at the lens, and offloads them to overt.

It imports nothing of overt, Django or DRF (an import-linter contract says so): it runs
on a small Linux board with PyAV, cryptography and the standard library.
"""

__version__ = "0.1.0"
