"""Production build (issue 10): DEBUG=0 static files and the image's build step are the ones CI runs."""

import json
import re
import shutil
import subprocess
from pathlib import Path

import pytest
from django.core.management import call_command

ROOT = Path(__file__).resolve().parent.parent
MANIFEST_STORAGE = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"},
}
needs_node_modules = pytest.mark.skipif(
    not (ROOT / "node_modules" / "chart.js").exists(), reason="needs node_modules (make assets)"
)


def _static_tree(tmp_path) -> Path:
    """static/ as a fresh checkout has it after `scripts/vendor-assets` (not the shared vendor folder)."""
    src = tmp_path / "static"
    shutil.copytree(ROOT / "static", src, ignore=shutil.ignore_patterns("vendor"))
    subprocess.run([str(ROOT / "scripts" / "vendor-assets"), str(src / "vendor")], cwd=ROOT, check=True)
    return src


def _collect(settings, src, out):
    settings.STATICFILES_DIRS = [src]
    settings.STATIC_ROOT = out
    settings.STORAGES = MANIFEST_STORAGE
    # Our files only (the full build with the admin's is `make prod-smoke`): the storage is production's.
    settings.STATICFILES_FINDERS = ["django.contrib.staticfiles.finders.FileSystemFinder"]
    settings.WHITENOISE_SKIP_COMPRESS_EXTENSIONS = ["js", "css", "map", "svg"]  # gzip/brotli: slow, not the point
    call_command("collectstatic", "--noinput", "-v0")


@needs_node_modules
def test_debug0_collectstatic_manifest_has_every_file_and_every_reference(settings, tmp_path):
    src, out = _static_tree(tmp_path), tmp_path / "out"
    _collect(settings, src, out)
    paths = json.loads((out / "staticfiles.json").read_text())["paths"]
    ours = {p.relative_to(src).as_posix() for p in src.rglob("*") if p.is_file() and p.name != ".installed"}
    assert ours <= set(paths), ours - set(paths)
    assert {"vendor/chart.umd.js", "vendor/chart.umd.js.map", "vendor/htmx.min.js"} <= set(paths)
    # Every file a collected script or stylesheet points at (source maps, url()) is there, hashed.
    for name, hashed in paths.items():
        if not name.endswith((".js", ".css")):
            continue
        text = (out / hashed).read_text(errors="ignore")
        refs = re.findall(r"sourceMappingURL=([^\s*\"']+)", text)
        if name.endswith(".css"):  # url() is a stylesheet reference; in a script bundle it is code (Swagger UI)
            refs += [r for r in re.findall(r"url\(['\"]?([^'\")]+)", text) if not r.startswith(("data:", "#", "http"))]
        for ref in refs:
            assert (out / Path(hashed).parent / ref.split("?")[0]).exists(), f"{hashed} references missing {ref}"


@needs_node_modules
def test_a_missing_referenced_file_fails_the_build(settings, tmp_path):
    """The class of fault behind issue 10: a library names a file that is not copied."""
    src = _static_tree(tmp_path)
    (src / "vendor" / "chart.umd.js.map").unlink()
    with pytest.raises(ValueError, match=r"chart\.umd\.js\.map"):
        _collect(settings, src, tmp_path / "out")


def _run_steps(dockerfile: str) -> list[str]:
    text = re.sub(r"\\\n", " ", dockerfile)
    return [line[4:].strip() for line in text.splitlines() if line.startswith("RUN ")]


def test_the_image_builds_static_with_the_script_ci_runs():
    """Docker is not available in CI: instead the Dockerfile's build step is one script, and CI runs that
    script (make prod-smoke → scripts/prod-smoke → scripts/build-static) with DEBUG=0."""
    runs = _run_steps((ROOT / "Dockerfile").read_text())
    assert any("scripts/build-static" in r for r in runs)
    for r in runs:  # no second copy of the build that could drift from CI's
        assert "collectstatic" not in r and "node_modules/" not in r and "compilemessages" not in r
    assert "DEBUG=0" in (ROOT / "Dockerfile").read_text()
    assert "make prod-smoke" in (ROOT / ".ci" / "run").read_text()
    assert "scripts/prod-smoke" in (ROOT / "Makefile").read_text()
    smoke = (ROOT / "scripts" / "prod-smoke").read_text()
    assert "scripts/build-static" in smoke and "gunicorn" in smoke and "DEBUG=0" in smoke
    assert "scripts/vendor-assets" in (ROOT / "scripts" / "build-static").read_text()
    assert "scripts/vendor-assets" in (ROOT / "Makefile").read_text()
