"""HiFiC (Mentzer et al., NeurIPS 2020) as a real codec: networks, bitstream, checkpoints."""
