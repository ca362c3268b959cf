from pathlib import Path

from typer.testing import CliRunner

from qa.cli import app
from qa.config import Settings
from qa.ingest.freshness import SeedChanges, seed_changes
from qa.service import QAService
from tests.support import SEED_FILE

runner = CliRunner()


def test_added_changed_removed_against_the_manifest(fake_service: QAService) -> None:
    seeds = fake_service.settings.seeds_dir
    indexed = fake_service.manifest.files
    assert seed_changes(seeds, indexed) == SeedChanges((), (), ())
    (seeds / "new.md").write_text("# New\n\nA new file.", "utf-8")
    (seeds / ".hidden.txt").write_text("never loaded", "utf-8")
    (seeds / "notes.docx.bak").write_text("not a seed type", "utf-8")
    with (seeds / SEED_FILE).open("a", encoding="utf-8") as handle:
        handle.write("\nOne more line.")
    changes = seed_changes(seeds, {**indexed, "gone.txt": "0" * 64})
    assert changes == SeedChanges(added=("new.md",), changed=(SEED_FILE,), removed=("gone.txt",))
    assert changes.stale
    assert changes.describe() == f"1 added (new.md); 1 changed ({SEED_FILE}); 1 removed (gone.txt)"
    fake_service.ingest()
    assert not seed_changes(seeds, fake_service.manifest.files).stale


def test_links_out_of_the_folder_are_not_read(fake_service: QAService, tmp_path: Path) -> None:
    secret = tmp_path / "secret.txt"
    secret.write_text("outside", "utf-8")
    (fake_service.settings.seeds_dir / "link.txt").symlink_to(secret)
    assert not seed_changes(fake_service.settings.seeds_dir, fake_service.manifest.files).stale


def test_describe_shortens_long_lists() -> None:
    changes = SeedChanges(added=tuple(f"f{i}.txt" for i in range(8)), changed=(), removed=())
    assert changes.describe(limit=2) == "8 added (f0.txt, f1.txt, … 6 more)"


def test_ask_and_chat_warn_when_the_seeds_changed(cli_env: Settings) -> None:
    assert runner.invoke(app, ["ingest"]).exit_code == 0
    quiet = runner.invoke(app, ["ask", "Who makes the TB2?", "--json", "--local"])
    assert quiet.exit_code == 0 and "warning" not in quiet.stderr
    (cli_env.seeds_dir / "kestrel-point.txt").write_text("The lighthouse keeper is Orla Finch.", "utf-8")
    asked = runner.invoke(app, ["ask", "Who makes the TB2?", "--json", "--local"])
    assert asked.exit_code == 0
    assert "seeds folder changed" in asked.stderr and "kestrel-point.txt" in asked.stderr
    assert "qa ingest" in asked.stderr
    assert "warning" not in asked.stdout  # --json output stays parseable
    chatted = runner.invoke(app, ["chat"], input="\n")
    assert chatted.exit_code == 0 and "kestrel-point.txt" in chatted.stderr
