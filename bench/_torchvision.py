"""Make ``import torchvision`` work where its compiled extension cannot load.

Some torchvision wheels installed beside a CPU-only torch fail at import with
``operator torchvision::nms does not exist`` because their ``_C`` library links CUDA.
lpips, pytorch-fid, torch-fidelity and compressai only need torchvision's pure-Python
parts (model definitions, transforms). When, and only when, the real import fails this
way, we declare the two operator schemas its Python code registers fakes for, and
import again. ``torchvision.ops.nms`` and ``torchvision.io`` stay unusable then.
"""
from __future__ import annotations

import sys

_schemas = []


def ensure_torchvision() -> None:
    """Import torchvision, declaring its missing operator schemas if needed.

    Public as ``bench.ensure_torchvision()``: a script of your own (saving checkpoints of a
    CompressAI model, say) calls it before ``import compressai`` or ``import torchvision``.
    """
    if "torchvision" in sys.modules and hasattr(sys.modules["torchvision"], "__version__"):
        return
    try:
        import torchvision  # noqa: F401
        return
    except RuntimeError as exc:
        if "torchvision::" not in str(exc):
            raise
    import torch

    for name in [n for n in sys.modules if n == "torchvision" or n.startswith("torchvision.")]:
        del sys.modules[name]
    library = torch.library.Library("torchvision", "DEF")
    for operator in ("nms", "qnms"):
        library.define(f"{operator}(Tensor dets, Tensor scores, float iou_threshold) -> Tensor")
    _schemas.append(library)
    import torchvision  # noqa: F401
