"""MkDocs hook: before each build, generate what the pages include but git does not hold:
the GIFs (gen_gifs.py), the CLI's --help text and the hyperparameter page (from the YAML files
wherever the agents package keeps them)."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

DOCS = Path(__file__).resolve().parent
ROOT = DOCS.parent
GENERATED = DOCS / "generated"


def _cli_help() -> str:
    env = os.environ | {"COLUMNS": "100"}
    parts = []
    for args in ([], ["train"], ["evaluate"], ["compare"]):
        out = subprocess.run([sys.executable, "-m", "agents", *args, "--help"], capture_output=True, text=True, env=env)
        if out.returncode != 0:  # a subcommand that does not exist (any more) is left out
            if not args:
                raise RuntimeError(f"python -m agents --help failed:\n{out.stderr}")
            continue
        parts.append(f"$ python -m agents {' '.join([*args, '--help'])}\n{out.stdout.rstrip()}\n")
    return "\n".join(parts)


def _hyperparams_page() -> str:
    files = sorted(path for path in (ROOT / "agents").rglob("hyperparams/*.yml"))
    lines = [
        "# Hyperparameters",
        "",
        "Per-env settings of each agent, as YAML files in the agents package (a `hyperparams/` folder; "
        "this page is generated from them at build time, so it follows them when they move). Each entry "
        "names its `source`: rl-zoo3's tuned values where they exist, otherwise how it was tuned here.",
        "",
    ]
    for path in files:
        source = path.read_text().rstrip()
        lines += [f"## {path.stem}", "", f"`{path.relative_to(ROOT)}`", "", "```yaml", source, "```", ""]
    if not files:
        raise RuntimeError(f"no hyperparams/*.yml found under {ROOT / 'agents'}")
    return "\n".join(lines)


def on_pre_build(config, **kwargs) -> None:
    sys.path.insert(0, str(DOCS))
    import gen_gifs

    GENERATED.mkdir(exist_ok=True)
    gen_gifs.main(GENERATED / "gifs")
    (GENERATED / "cli.txt").write_text(_cli_help())
    (GENERATED / "hyperparams.md").write_text(_hyperparams_page())
    for image in _benchmark_images():
        shutil.copyfile(image, GENERATED / image.name)


def on_page_markdown(markdown: str, page, **kwargs) -> str:
    """benchmarks/RESULTS.md links its plots beside it; on the site they are in generated/."""
    if page.file.src_path == "benchmarks.md":
        markdown = (ROOT / "benchmarks" / "RESULTS.md").read_text()  # included here, not by the snippet
        for image in _benchmark_images():
            markdown = markdown.replace(f"]({image.name})", f"](generated/{image.name})")
    return markdown


def _benchmark_images() -> list[Path]:
    """The plots and the agent's game that benchmarks/RESULTS.md shows."""
    return sorted([*(ROOT / "benchmarks").glob("*.png"), *(ROOT / "benchmarks").glob("*.gif")])
