"""Copy the generated result tables into the documentation, so that every measured number in the README and
``docs/`` comes from a file a benchmark command wrote:

    python benchmarks/embed_results.py           # rewrite the blocks
    python benchmarks/embed_results.py --check   # exit 1 naming each block that differs (the test suite runs it)

A block is ``<!-- NAME -->`` ... ``<!-- /NAME -->`` in ``README.md`` or ``docs/*.md``; its content becomes
``benchmarks/results/NAME.md`` without that file's first ``# `` title line. Blocks whose NAME has no result file
are left alone (they may hold blocks that do).
"""
import argparse
import re
import sys
from pathlib import Path
from typing import List, Tuple

REPO = Path(__file__).resolve().parents[1]
OPEN = re.compile(r"<!-- ([\w-]+) -->")


def result_body(path: Path) -> str:
    """A result file's text without its first ``# `` title line and the blank lines around it."""
    lines = path.read_text().splitlines()
    if lines and lines[0].startswith("# "):
        lines = lines[1:]
    while lines and not lines[0].strip():
        lines = lines[1:]
    return "\n".join(lines).rstrip() + "\n"


def embed(text: str, results: Path) -> Tuple[str, List[str]]:
    """``text`` with every block that has a result file replaced (blocks may nest); also the names of the blocks
    that changed."""
    changed = []
    for name in dict.fromkeys(OPEN.findall(text)):
        src = results / f"{name}.md"
        if not src.is_file():
            continue
        body = result_body(src)
        block = re.compile(rf"(<!-- {re.escape(name)} -->\n)(.*?)(<!-- /{re.escape(name)} -->)", re.S)
        if any(m.group(2) != body for m in block.finditer(text)):
            changed.append(name)
        text = block.sub(lambda m, body=body: m.group(1) + body + m.group(3), text)
    return text, changed


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--check", action="store_true", help="change nothing; exit 1 when a block is out of date")
    p.add_argument("--root", default=str(REPO), help=argparse.SUPPRESS)
    a = p.parse_args(argv)
    root = Path(a.root)
    stale = []
    for doc in [root / "README.md", *sorted((root / "docs").glob("*.md"))]:
        text, changed = embed(doc.read_text(), root / "benchmarks" / "results")
        if changed:
            stale += [f"{doc.relative_to(root)}: {name}" for name in changed]
            if not a.check:
                doc.write_text(text)
    for s in stale:
        print(("out of date: " if a.check else "updated: ") + s)
    return 1 if a.check and stale else 0


if __name__ == "__main__":
    sys.exit(main())
