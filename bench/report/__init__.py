"""The HTML report and matched-bpp comparison of a run directory (``bench report``, ``bench compare``)."""
