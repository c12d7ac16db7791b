"""cfn-lint on the synthesized templates: no error, no warning."""

from __future__ import annotations

import subprocess
import sys

from tests.infra.conftest import Synthesized


def test_cfn_lint_is_clean_on_both_variants(
    synthesized: Synthesized, synthesized_variant: Synthesized
) -> None:
    # One cfn-lint process for both templates: loading its specs costs most of the time.
    # The only silenced check (W3005, on the functions) is set inside the template, with why.
    templates = [str(synthesized.template_path), str(synthesized_variant.template_path)]
    result = subprocess.run(
        [sys.executable, "-c", "from cfnlint.runner import main; main()", *templates],
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr
