"""The README's commands are the ones CI runs."""

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def test_ci_runs_the_readme_test_command():
    readme = (ROOT / "README.md").read_text()
    commands = re.findall(r"```bash\n(.+?)\n```", readme)
    assert len(commands) >= 2
    install_and_demo, install_and_test = commands[:2]
    assert install_and_demo.endswith("sonotype demo")
    ci = (ROOT / ".ci" / "run").read_text().strip().splitlines()
    assert ci[-1] == install_and_test
