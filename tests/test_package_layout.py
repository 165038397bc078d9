"""The package's layout: subpackages named by what they hold, old names kept as deprecated aliases."""

from __future__ import annotations

import pathlib
import re
import subprocess
import sys

SRC = pathlib.Path(__file__).resolve().parents[1] / "src" / "veplab"


def _run(code: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-W", "always", "-c", code], capture_output=True, text=True, check=True)


def test_old_factors_imports_still_work_with_a_deprecation_warning() -> None:
    out = _run(
        "import veplab.factors.mixed as m, veplab.models.mixed as n; from veplab.factors import logit, impute, "
        "latent_classes, endorsement; from veplab.factors.design import fit_model; "
        "from veplab.describe import crosstab; import veplab.descriptives.tables as t; "
        "print(m is n, logit.__module__, impute.__module__, latent_classes.__module__, endorsement.__module__, "
        "fit_model.__module__, crosstab is t.crosstab)"
    )
    assert out.stdout.split() == [
        "True", "veplab.models.regression", "veplab.missing.imputation", "veplab.latent_classes.lca",
        "veplab.descriptives.shares", "veplab.push_pull.design", "True",
    ]
    assert "veplab.factors is deprecated" in out.stderr and "veplab.describe is deprecated" in out.stderr


def test_the_package_itself_uses_the_new_names() -> None:
    old = re.compile(r"(from|import)\s+(veplab\.factors|veplab\.describe|\.\.?factors|\.\.?describe)\b")
    offenders = [str(p.relative_to(SRC)) for p in SRC.rglob("*.py")
                 if p.name != "describe.py" and "factors" not in p.parts and old.search(p.read_text())]
    assert offenders == []
    out = _run("import sys, veplab.build, veplab.cli, veplab.push_pull.design, veplab.validity, veplab.outcomes, "
               "veplab.survey; print(sorted(m for m in sys.modules if m in ('veplab.factors', 'veplab.describe')))")
    assert out.stdout.strip() == "[]" and "deprecated" not in out.stderr
