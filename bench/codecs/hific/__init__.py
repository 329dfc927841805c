"""HiFiC as bench codecs: checkpoint families, and one codec per bitstream format over them."""
