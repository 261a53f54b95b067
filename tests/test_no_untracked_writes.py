"""No code path updates regulated rows without an audit entry: the base manager refuses bulk writes at
run time, and the code base is scanned for `.update(` on regulated querysets and `_base_manager` writes."""

import ast
from pathlib import Path

import pytest
from django.apps import apps
from django.conf import settings

from qms.core.audit import RegulatedDeleteRefused, RegulatedModel, RegulatedQuerySet, audit_context
from qms.core.models import Part, PartType, User

ROOT = Path(settings.BASE_DIR)
SKIP_DIRS = {".venv", "node_modules", "migrations", "tests", "bench", "static", "staticfiles", ".git", "media"}
WRITE_METHODS = {"update", "_update", "bulk_update", "delete", "_raw_delete", "update_or_create"}


def regulated_models():
    return [m for m in apps.get_models() if issubclass(m, RegulatedModel)]


@pytest.mark.parametrize("model", regulated_models(), ids=lambda m: m._meta.label_lower)
def test_base_manager_is_the_regulated_one(model):
    assert isinstance(model._base_manager.all(), RegulatedQuerySet)


def test_update_through_base_manager_is_refused(db):
    with audit_context(reason="test"):
        part = Part.objects.create(number="P-BM", name="Ring", part_type=PartType.COMPONENT, unit="pcs")
    with pytest.raises(RegulatedDeleteRefused):
        Part._base_manager.filter(pk=part.pk).update(name="quietly changed")
    with pytest.raises(RegulatedDeleteRefused):
        Part._base_manager.filter(pk=part.pk).delete()
    with pytest.raises(RegulatedDeleteRefused):
        User._base_manager.update(is_active=False)
    assert Part.objects.get(pk=part.pk).name == "Ring"
    # A normal save still works (Django's own save uses the internal _update, recorded by the signal).
    part.name = "Ring, ground"
    part.save(reason="drawing rev B")
    part.refresh_from_db()
    assert part.name == "Ring, ground"


def _python_files():
    for path in ROOT.rglob("*.py"):
        rel = path.relative_to(ROOT)
        if SKIP_DIRS & set(rel.parts[:-1]):
            continue
        yield rel, path


def _chain_names(node):
    """Names along an attribute/call chain: Part.objects.filter(x).update -> ['Part', 'objects', 'filter']."""
    names = []
    while True:
        if isinstance(node, ast.Call):
            node = node.func
        elif isinstance(node, ast.Attribute):
            names.append(node.attr)
            node = node.value
        elif isinstance(node, ast.Name):
            names.append(node.id)
            break
        else:
            break
    return list(reversed(names))


def find_untracked_writes(source: str, regulated: set[str]) -> list[str]:
    problems = []
    for node in ast.walk(ast.parse(source)):
        if not (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute)):
            continue
        method, chain = node.func.attr, _chain_names(node.func.value)
        if method not in WRITE_METHODS:
            continue
        if "_base_manager" in chain:
            problems.append(f"line {node.lineno}: _base_manager ... .{method}(")
        elif chain and chain[0] in regulated and len(chain) > 1 and chain[1] == "objects":
            problems.append(f"line {node.lineno}: {chain[0]}.{'.'.join(chain[1:])}.{method}(")
        elif method in {"_update", "_raw_delete"}:
            problems.append(f"line {node.lineno}: .{method}( bypasses every check")
    return problems


def test_scanner_finds_what_it_must():
    regulated = {"Part", "Ncr"}
    source = (
        "Part.objects.filter(pk=1).update(name='x')\n"
        "Ncr._base_manager.filter(pk=1).update(status='closed')\n"
        "type(obj)._base_manager.filter(pk=1).delete()\n"
        "qs._update({})\n"
        "Notification.objects.filter(pk=1).update(read_at=None)\n"  # not regulated
        "seen.update(Part.objects.values_list('pk', flat=True))\n"  # a set
        "Part._base_manager.filter(pk=1).first()\n"  # a read
    )
    assert [p.split(":")[0] for p in find_untracked_writes(source, regulated)] == [
        "line 1",
        "line 2",
        "line 3",
        "line 4",
    ]


def test_no_code_path_writes_regulated_rows_around_the_trail():
    regulated = {m.__name__ for m in regulated_models()}
    found = []
    for rel, path in _python_files():
        for problem in find_untracked_writes(path.read_text(encoding="utf-8"), regulated):
            found.append(f"{rel} {problem}")
    assert not found, "Writes that bypass the audit trail:\n" + "\n".join(found)
