"""Names of the documented settings, and the few choices the command line lists.

A module without imports, so that building the command line (``bench --help``) loads no
heavy library; the modules that use these names import them from here.
"""

#: Folder of local dataset copies (``--data-dir``).
DATA_DIR_ENV = "BENCH_DATA_DIR"
#: Download cache (``--cache-dir``).
CACHE_DIR_ENV = "BENCH_CACHE_DIR"
#: Dataset catalogue file (default: ``datasets.yaml`` of the repository).
CATALOG_ENV = "BENCH_DATASETS_FILE"
#: Folder of network weights for LPIPS and FID/KID (``--weights-dir``).
WEIGHTS_DIR_ENV = "BENCH_WEIGHTS_DIR"
#: Folder of CompressAI zoo weights (``--compressai-weights``).
COMPRESSAI_WEIGHTS_ENV = "BENCH_COMPRESSAI_WEIGHTS"
#: Folder of the MS-ILLM / no-GAN checkpoint files (``--msillm-weights``).
MSILLM_WEIGHTS_ENV = "BENCH_MSILLM_WEIGHTS"
#: Another folder of ``<family>-<rate>/`` HiFiC checkpoint folders (``--baselines-dir``).
BASELINES_DIR_ENV = "BENCH_BASELINES_DIR"
#: LPIPS backbones, the default first.
LPIPS_NETS = ("alex", "squeeze")

#: Seconds a row may take before it is an error (``--row-timeout``): chosen far above any honest
#: codec here (a Kodak row takes well under a second for classical codecs, seconds for HiFiC on the CPU).
DEFAULT_ROW_TIMEOUT = 1800.0
