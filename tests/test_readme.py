from conftest import ROOT


def test_ci_runs_the_readme_test_command_verbatim():
    readme = (ROOT / "README.md").read_text()
    ci = (ROOT / ".ci" / "run").read_text().splitlines()
    command = ci[-1]
    assert "pytest" in command
    assert f"\n{command}\n" in readme


def test_readme_quick_start_reads_a_bundled_sample():
    readme = (ROOT / "README.md").read_text()
    line = next(ln for ln in readme.splitlines() if ln.startswith("python3 -m venv") and "vinread " in ln)
    sample = line.rsplit("vinread ", 1)[1].strip()
    assert (ROOT / sample).is_file(), f"README quick start names {sample}, which is missing"
