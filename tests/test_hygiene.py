"""Import hygiene: headless commands and the library never import Textual."""

from __future__ import annotations

import subprocess
from pathlib import Path
import sys

from tests.conftest import ROOT


def modules_after(code: str) -> set[str]:
    out = subprocess.run(
        [sys.executable, "-c", code + "\nimport sys; print('\\n'.join(sys.modules))"],
        capture_output=True, text=True, check=True, cwd=ROOT,
    ).stdout
    return set(out.split())


def test_library_layers_do_not_import_textual():
    loaded = modules_after("import newsmark.schema.store, newsmark.schema.scheme, newsmark.schema.models")
    assert not any(name == "textual" or name.startswith("textual.") for name in loaded)


def test_headless_cli_commands_do_not_import_textual(tmp_path):
    db = tmp_path / "h.db"
    code = (
        "from click.testing import CliRunner\n"
        "from newsmark.tui.cli import cli\n"
        f"for args in (['--db', r'{db}', 'init'], ['--db', r'{db}', 'status', '--json']):\n"
        "    result = CliRunner().invoke(cli, args)\n"
        "    assert result.exit_code == 0, result.output\n"
    )
    loaded = modules_after(code)
    assert not any(name == "textual" or name.startswith("textual.") for name in loaded)


def test_schema_imports_no_other_layer():
    loaded = modules_after("import newsmark.schema.store, newsmark.schema.scheme, newsmark.schema.models, newsmark.schema.sanitize, newsmark.schema.migrations")
    assert not any(name.split(".")[:2] in (["newsmark", "tui"], ["newsmark", "exports"], ["newsmark", "analysis"]) for name in loaded)


def test_the_installed_command_works_outside_the_checkout(tmp_path):
    """Run from another folder, nothing may resolve through the checkout's top-level
    folders (`schema`, `tui`): only through the installed newsmark namespace."""
    import shutil

    newsmark = shutil.which("newsmark", path=str(Path(sys.executable).parent))
    assert newsmark, "the newsmark console script is not installed beside this Python"
    db = tmp_path / "outside.db"
    for args in (["init"], ["import", str(ROOT / "seeds")], ["status", "--json"], ["export", "--format", "w3c"]):
        result = subprocess.run([newsmark, "--db", str(db), *args], capture_output=True, text=True, cwd=tmp_path)
        assert result.returncode == 0, (args, result.stderr)
        assert "Traceback" not in result.stderr
