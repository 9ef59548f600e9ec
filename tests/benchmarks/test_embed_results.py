"""benchmarks/embed_results.py: blocks replaced from result files, others left alone, and the committed docs in
sync with the committed results."""
from benchmarks import embed_results as E


def test_blocks_come_from_result_files(tmp_path):
    (tmp_path / "docs").mkdir()
    res = tmp_path / "benchmarks" / "results"
    res.mkdir(parents=True)
    (res / "speed.md").write_text("# Speed (title)\n\n| a | b |\n|---|---|\n| 1 | 2 |\n")
    doc = ("intro\n<!-- outer -->\ntext\n<!-- speed -->\nold numbers\n<!-- /speed -->\nmore\n<!-- /outer -->\n"
           "<!-- missing -->\nkept\n<!-- /missing -->\n")
    (tmp_path / "README.md").write_text("no blocks\n")
    (tmp_path / "docs" / "x.md").write_text(doc)
    assert E.main(["--check", "--root", str(tmp_path)]) == 1
    assert (tmp_path / "docs" / "x.md").read_text() == doc  # --check writes nothing
    assert E.main(["--root", str(tmp_path)]) == 0
    new = (tmp_path / "docs" / "x.md").read_text()
    assert new == doc.replace("old numbers\n", "| a | b |\n|---|---|\n| 1 | 2 |\n")
    assert E.main(["--check", "--root", str(tmp_path)]) == 0


def test_committed_docs_match_the_committed_results():
    assert E.main(["--check"]) == 0, "run: python benchmarks/embed_results.py"
