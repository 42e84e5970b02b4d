"""French typography of the panes: the renderer's rules, unit-tested with node's test runner
(tests/addin/js/typography.test.mjs), and seen in a rendered answer in the Word pane."""
from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

from .conftest import open_tab

HERE = Path(__file__).resolve().parent
NBSP, NNBSP, NBHYPHEN = "\u00a0", "\u202f", "\u2011"


def test_typography_rules_under_node():
    node = shutil.which("node")
    assert node, "node is needed for the add-in's unit tests"
    run = subprocess.run([node, "--test", str(HERE / "js")], capture_output=True, text=True, timeout=60)
    assert run.returncode == 0, run.stdout + run.stderr
    assert "# fail 0" in run.stdout


def test_a_rendered_answer_reads_in_french_typography(plume, fake_llm, open_pane, screenshot):
    fake_llm.reply = ("Sur le pourvoi n° 23-11.537 formé par M. Martin : l'entreprise [1] . "
                      "La cour retient la « faute grave » ( § 1 ) ; le pourvoi est-il fondé ? Non !")
    page = open_pane(plume(), globals={"__officeMockConfig": {"paragraphs": ["Attendu que M. Martin a été licencié."]}})
    open_tab(page, "summarize")
    page.check("input[name=summarize-scope][value=document]")
    page.click("#summarize-run")
    page.wait_for_selector("#summarize-after [data-action=insert]")
    shown = page.text_content("#summarize-output")
    assert f"n°{NBSP}23{NBHYPHEN}11.537" in shown
    assert f"M.{NBSP}Martin{NBSP}:" in shown
    assert f"l’entreprise{NBSP}[1]." in shown
    assert f"«{NBSP}faute grave{NBSP}»" in shown and f"(§{NBSP}1){NNBSP};" in shown
    assert f"fondé{NNBSP}? Non{NNBSP}!" in shown
    # The chip is still a button, and what goes into the document is the model's text.
    assert page.locator("#summarize-output button[data-paragraph='1']").count() == 1
    screenshot(page, "word-typography")
