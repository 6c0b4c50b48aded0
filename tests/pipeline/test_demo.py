"""The demo workflow's detection scores against the synthetic truth."""

from sonotype.pipeline.demo import run_demo


def test_demo_detects_the_known_truth(tmp_path):
    result = run_demo(tmp_path / "demo")
    scores = result.detection.set_index("set")
    assert scores.loc["birds", "F1"] >= 0.95
    assert scores.loc["flies", "F1"] >= 0.95
    assert result.report.is_file()
    assert result.discovery["ami"] >= 0.9
    assert result.catalog.is_file()
