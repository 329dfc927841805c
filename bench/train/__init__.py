"""``bench train``: HiFiC's training recipe with an optional sparsity loss on the latent."""
