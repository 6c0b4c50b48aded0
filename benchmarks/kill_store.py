"""Kill test: SIGKILL ``sonotype`` commands at random moments; the store must stay consistent.

Run by hand: ``python benchmarks/kill_store.py [--trials 50] [--seed 0] [--commands LIST]``
(``tests/store/test_kill_commands.py`` runs a few trials, without ``train``, as a slow test).

Makes a synthetic project (two 20 s fly recordings from :func:`sonotype.synth.flysong` and
their true pulses and sine song as ``truth.csv``), times each command once uninterrupted,
then for each trial starts one of ``import``, ``undo``, ``detect``, ``export`` and ``train``
(a tiny network, a few steps) as a subprocess and kills it with SIGKILL after a random delay
between 0.3 and 1.1 times its uninterrupted duration (the start of a run is mostly imports;
the writes come late). After each kill it checks:

- the database passes SQLite's integrity check, and every edit is whole: each live import
  edit holds exactly the events of ``truth.csv``, the latest live detect edit exactly what an
  uninterrupted detect stores (and the detected events number that or none), each undone
  edit none; no event belongs to no edit;
- outputs are whole where they exist: every export file reads back as a whole number of
  copies of its recording's true events, the model folder loads (model.json, weights);

then runs the same command again, uninterrupted, and checks that it succeeds, that the
checks above still hold, and that no temporary file or staging folder is left anywhere in
the project (the killed run's are cleaned by the next run). Prints one line per trial and a
summary; exits 1 if any trial failed.
"""

from __future__ import annotations

import argparse
import os
import random
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from sonotype.annotations import concat_events, read_events, write_events
from sonotype.audio import write_audio
from sonotype.store import Project
from sonotype.synth import flysong

COMMANDS = {
    "import": ["import", "truth.csv", "--source", "truth"],
    "undo": ["undo"],  # after import, so that imports and undos balance
    "detect": ["detect", "--workers", "1"],
    "export": ["export", "-o", "out", "-f", "raven", "--kind", "annotated", "--force"],
    "train": [
        "train", "--name", "m", "--labels", "pulse,sine", "--background", "ambient",
        "--recordings", "fly0.wav", "--steps", "8", "--validate-every", "4",
        "--validate-percent", "25", "--set", "feature_maps=4", "--set", "conv_layers=2",
        "--device", "cpu", "--force",
    ],
}  # fmt: skip


def make_project(folder: Path) -> dict[str, int]:
    """The synthetic project; returns the number of true events per recording."""
    tables = []
    for i in range(2):
        y, events = flysong(20, recording=f"fly{i}.wav", random_state=i)
        write_audio(folder / "audio" / f"fly{i}.wav", y, 2500)
        tables.append(events)
    truth = concat_events(tables)
    write_events(truth, folder / "truth.csv")
    with Project.init(folder) as project:
        project.scan()
    return truth["recording"].value_counts().to_dict()


def sonotype(folder: Path, command: str) -> subprocess.Popen:
    env = {**os.environ, "OMP_NUM_THREADS": "1", "PYTHONPATH": os.pathsep.join(sys.path)}
    return subprocess.Popen(
        [sys.executable, "-m", "sonotype", *COMMANDS[command], "-p", str(folder)],
        cwd=folder,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )


def run_whole(folder: Path, command: str) -> float:
    start = time.perf_counter()
    process = sonotype(folder, command)
    output, _ = process.communicate()
    if process.returncode != 0 and not (command == "undo" and "nothing to undo" in output):
        raise AssertionError(
            f"{command} failed after a kill (exit {process.returncode}):\n{output}"
        )
    return time.perf_counter() - start


def check_store(folder: Path, truth: dict[str, int], n_detected: int) -> None:
    """Raise AssertionError if the project holds partial state."""
    with Project(folder) as project:  # not Project.open: that would clean leftovers
        db = project.db
        assert db.integrity_check() == "ok", "database damaged"
        orphans = db.execute(
            "SELECT COUNT(*) FROM events WHERE edit_id NOT IN (SELECT id FROM edits)"
        ).fetchone()[0]
        assert orphans == 0, f"{orphans} events belong to no edit"
        rows = db.execute(
            "SELECT e.id, e.command, e.undone, COUNT(v.id) AS n FROM edits e "
            "LEFT JOIN events v ON v.edit_id = e.id GROUP BY e.id ORDER BY e.id"
        ).fetchall()
        live_detects = [row for row in rows if row["command"] == "detect" and not row["undone"]]
        for row in rows:
            if row["undone"]:
                expected = 0
            elif row["command"] == "import":
                expected = sum(truth.values())  # nothing deletes imported events
            elif live_detects and row["id"] == live_detects[-1]["id"]:
                expected = n_detected  # a detect replaces earlier detections, not this one
            else:
                continue
            assert row["n"] == expected, (
                f"edit {row['id']} ({row['command']}, undone={row['undone']}) holds "
                f"{row['n']} events, not {expected}"
            )
        detected = len(project.events(kinds=["detected"]))
        assert detected in (0, n_detected), f"{detected} detected events, not {n_detected}"
        annotated = len(project.events(kinds=["annotated"]))
        assert annotated % sum(truth.values()) == 0, f"{annotated} annotated events"
    out = folder / "out"
    if out.is_dir():
        for path in out.rglob("*.txt"):
            if path.name.startswith("."):
                continue  # a killed export's temporary file, checked by `leftovers`
            recording = path.name.split(".")[0] + ".wav"
            n = len(read_events(path, format="raven", sr=2500))
            # An export of an earlier state holds the truth of its recording once per import
            # edit then live: whole means a whole number of times.
            assert n > 0 and n % truth[recording] == 0, f"{path} holds {n} events"
    model = folder / "artifacts" / "models" / "m"
    if model.exists():
        from sonotype.models.saved import SavedModel

        SavedModel.load(model)  # raises on a partial model folder


def leftovers(folder: Path) -> list[Path]:
    return [p for p in folder.rglob("*") if ".sonotype-" in p.name]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--trials", type=int, default=50)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--folder", type=Path, default=None, help="Default: a temporary one.")
    parser.add_argument(
        "--commands", default=",".join(COMMANDS), help="Commands to kill, in turn (default: all)."
    )
    args = parser.parse_args()
    order = args.commands.split(",")
    rng = random.Random(args.seed)
    with tempfile.TemporaryDirectory() as scratch:
        folder = args.folder or Path(scratch) / "project"
        truth = make_project(folder)
        durations = {}
        # Two imports to start with, so that undos never take the last one (train needs it).
        for command in ("import", "import", "detect", "export", "train", "import", "undo"):
            if command in order or command != "train":
                durations[command] = run_whole(folder, command)
        with Project(folder) as project:
            n_detected = project.db.execute(
                "SELECT COUNT(*) FROM events WHERE edit_id = "
                "(SELECT MAX(id) FROM edits WHERE command = 'detect')"
            ).fetchone()[0]
        check_store(folder, truth, n_detected)
        print("uninterrupted: " + ", ".join(f"{c} {s:.1f} s" for c, s in durations.items()))
        failures = killed = with_leftovers = 0
        for trial in range(args.trials):
            command = order[trial % len(order)]
            # Late in the run more often: that is when it writes (the start is imports).
            delay_s = rng.uniform(0.3, 1.1) * durations[command]
            process = sonotype(folder, command)
            time.sleep(delay_s)
            finished = process.poll() is not None
            if not finished:
                process.send_signal(signal.SIGKILL)
                killed += 1
            process.communicate()
            left = leftovers(folder)
            with_leftovers += bool(left)
            try:
                check_store(folder, truth, n_detected)
                run_whole(folder, command)
                check_store(folder, truth, n_detected)
                remaining = leftovers(folder)
                assert not remaining, f"not cleaned: {[str(p) for p in remaining]}"
                verdict = "ok"
            except AssertionError as error:
                failures += 1
                verdict = f"FAILED: {error}"
            state = "finished" if finished else f"killed, {len(left)} leftovers"
            print(f"trial {trial + 1:3d} {command:7s} at {delay_s:5.2f} s ({state}): {verdict}")
        print(
            f"{args.trials} trials ({killed} killed mid-run, {with_leftovers} leaving temporary "
            f"files or staging folders): {failures} failed"
        )
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
