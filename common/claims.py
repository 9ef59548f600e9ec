"""The claim rule of ``docs/interfaces.md`` ("Claims and noise"): a variant beats another only when, over the seeds
of each arm, the gap of the means exceeds 2 standard deviations (sample std, the larger of the two arms);
otherwise the claim is "not resolved"."""
from __future__ import annotations

from typing import Dict, List, Sequence, Tuple

import numpy as np


def mean_std(vals: Sequence[float]) -> Tuple[float, float]:
    """Mean and sample standard deviation (0 for a single value)."""
    v = np.asarray(vals, float)
    return float(v.mean()), float(v.std(ddof=1)) if len(v) > 1 else 0.0


def compare(a: Sequence[float], b: Sequence[float], higher_is_better: bool = True) -> Dict[str, object]:
    """``a`` against ``b``: means, stds, ``gap`` (positive when ``a`` is better), the larger ``std`` and the
    ``verdict``: "holds" / "reversed" when |gap| > 2 std, else "not resolved"."""
    (ma, sa), (mb, sb) = mean_std(a), mean_std(b)
    gap = (ma - mb) if higher_is_better else (mb - ma)
    std = max(sa, sb)
    verdict = ("holds" if gap > 0 else "reversed") if abs(gap) > 2 * std else "not resolved"
    return {"mean_a": ma, "std_a": sa, "mean_b": mb, "std_b": sb, "gap": gap, "std": std, "verdict": verdict}


def claims_markdown(claims: Sequence[dict], scale: float = 100.0) -> List[str]:
    """Markdown lines of a claims table: ``claim``, ``gap`` and ``std`` (times ``scale``: points for fractions)
    and ``verdict``; a claim without a gap is "not measured" or similar."""
    lines = ["## Claims (a gap counts when it exceeds 2 std)", "", "| claim | gap (points) | 2 std | verdict |",
             "|---|---|---|---|"]
    for c in claims:
        if "gap" in c:
            lines.append(f"| {c['claim']} | {scale * c['gap']:+.1f} | {2 * scale * c['std']:.1f} | {c['verdict']} |")
        else:
            lines.append(f"| {c['claim']} | - | - | {c['verdict']} |")
    return lines
