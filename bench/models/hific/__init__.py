"""HiFiC (Mentzer et al., NeurIPS 2020): configuration, networks and checkpoint formats.

Used by the codec adapter (``bench.codecs.hific``) and by the trainer (``bench.train``).
"""
