"""The demo workflow: synthetic data with known answers, made into a project and reported."""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from sonotype.store import ImportReport, Project, ScanReport
from sonotype.synth.dataset import DemoDataset, write_demo_dataset


@dataclass(frozen=True)
class DemoResult:
    """What the demo made: the data, the project's scan and import, the report."""

    dataset: DemoDataset
    scan: ScanReport
    imported: ImportReport
    report: Path


def run_demo(
    folder: str | os.PathLike[str],
    *,
    random_state: int = 0,
    step: Callable[[str], None] | None = None,
) -> DemoResult:
    """Write the demo data into ``folder``, make it a project, import the truth, report.

    ``step`` is called with a short description before each stage (for progress display).
    """
    step = step or (lambda description: None)
    step("writing synthetic recordings")
    dataset = write_demo_dataset(folder, random_state=random_state)
    step("creating the project")
    with Project.init(
        dataset.folder, audio_roots=[dataset.audio_root], name="sonotype demo"
    ) as project:
        step("scanning recordings")
        scan = project.scan()
        step("importing the ground truth")
        imported = project.import_files(
            [dataset.folder / "annotations" / "truth.csv"], source="truth"
        )
        step("writing the report")
        from sonotype.report import write_project_report

        report = write_project_report(project)
    return DemoResult(dataset, scan, imported, report)
