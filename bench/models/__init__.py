"""Neural networks behind the learned codecs, apart from the codec adapters that use them."""
