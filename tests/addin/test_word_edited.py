"""« edited »: AI text changed in the document after insertion is reported once, when the
pane regains focus, before the next task or at the next 30-second check (on Playwright's fake
clock), and the observatory counts it; untouched or deleted text is not."""
from __future__ import annotations

import requests

from .conftest import FeedbackLog, word_calls, open_tab

PARAGRAPHS = ["Attendu que M. Martin a été licencié le 3 mars 2023 pour faute grave."]
REPLY = "Le salarié a été licencié pour faute grave (§ 1)."


def insert_summary(page, feedback: FeedbackLog, count: int) -> None:
    open_tab(page, "summarize")
    page.click("#summarize-run")
    page.click("#summarize-after [data-action=insert]")
    page.wait_for_selector("#summarize-after [data-outcome=inserted]")
    feedback.wait(count)


def user_edits(page, index: int, text: str) -> None:
    """What a user typing in the document does to the mock's content control."""
    page.evaluate("([i, text]) => { window.__officeState.contentControls[i].text = text; }", [index, text])


def comes_back_to_the_pane(page) -> None:
    page.evaluate("() => window.dispatchEvent(new Event('focus'))")


def outcomes(feedback: FeedbackLog) -> list[tuple[str, int]]:
    return [(body["outcome"], status) for body, status in feedback.sent if body["outcome"]]


def test_text_edited_after_insertion_is_reported_once_and_counted(plume, fake_llm, open_pane):
    fake_llm.reply = REPLY
    base = plume()
    page = open_pane(base, globals={"__officeMockConfig": {"paragraphs": PARAGRAPHS, "selection": [0, 0]}})
    feedback = FeedbackLog(page)
    insert_summary(page, feedback, 1)
    assert outcomes(feedback) == [("inserted", 201)]

    comes_back_to_the_pane(page)  # nothing changed yet: nothing to say
    feedback.wait(1)
    assert outcomes(feedback) == [("inserted", 201)]
    reads = [c for c in word_calls(page) if c["api"] == "ContentControlCollection.getByIdOrNullObject"]
    assert reads and reads[-1]["args"] == [1]

    user_edits(page, 0, "Le salarié a été licencié pour une faute grave avérée (§ 1).")
    comes_back_to_the_pane(page)
    feedback.wait(2)
    assert outcomes(feedback) == [("inserted", 201), ("edited", 201)]
    interaction = feedback.sent[0][0]["interaction_id"]
    assert feedback.sent[1][0]["interaction_id"] == interaction

    user_edits(page, 0, "Encore modifié.")  # reported once per answer
    comes_back_to_the_pane(page)
    feedback.wait(2)
    assert len(feedback.sent) == 2

    [row] = requests.get(f"{base}/api/v1/observatory/text-outcomes", timeout=10).json()["rows"]
    assert (row["task"], row["answers"], row["inserted"], row["edited"]) == ("summarize", 1, 0, 1)


def test_an_edit_is_noticed_before_the_next_task_and_a_deleted_text_says_nothing(plume, fake_llm, open_pane):
    fake_llm.reply = REPLY
    page = open_pane(plume(), globals={"__officeMockConfig": {"paragraphs": PARAGRAPHS, "selection": [0, 0]}})
    feedback = FeedbackLog(page)
    insert_summary(page, feedback, 1)
    user_edits(page, 0, "Texte revu par le magistrat.")
    page.click("#summarize-run")  # the next task, without the pane ever losing focus
    page.wait_for_selector("#summarize-after [data-action=insert]")
    feedback.wait(2)
    assert outcomes(feedback) == [("inserted", 201), ("edited", 201)]

    page.click("#summarize-after [data-action=insert]")
    page.wait_for_selector("#summarize-after [data-outcome=inserted]")
    feedback.wait(3)
    page.evaluate("() => { window.__officeState.contentControls[1].deleted = true; }")
    comes_back_to_the_pane(page)
    feedback.wait(3)
    assert outcomes(feedback) == [("inserted", 201), ("edited", 201), ("inserted", 201)]


def test_an_edit_is_noticed_by_the_periodic_check_without_focus_or_task(plume, fake_llm, open_pane):
    from .conftest import wait_until

    fake_llm.reply = REPLY
    page = open_pane(plume(), globals={"__officeMockConfig": {"paragraphs": PARAGRAPHS, "selection": [0, 0]}},
                     fake_clock=True)
    period = page.evaluate("async () => (await import('/addin/word/edits.js')).CHECK_EVERY_MS")
    assert period == 30_000
    feedback = FeedbackLog(page)
    insert_summary(page, feedback, 1)
    reads = lambda: len([c for c in word_calls(page) if c["api"] == "ContentControlCollection.getByIdOrNullObject"])  # noqa: E731
    before = reads()

    user_edits(page, 0, "Le salarié a été licencié pour une faute grave avérée (§ 1).")
    page.clock.fast_forward(period - 2_000)  # not yet: nothing is read, nothing is sent
    feedback.wait(1)
    assert reads() == before and outcomes(feedback) == [("inserted", 201)]

    page.clock.fast_forward(2_000)  # the check is due
    wait_until(page, "(n) => window.__officeCalls.filter((c) => c.api === 'ContentControlCollection.getByIdOrNullObject').length > n", before)
    feedback.wait(2)
    assert outcomes(feedback) == [("inserted", 201), ("edited", 201)]

    # Nothing is watched any more: the timer stops, later periods read nothing.
    after = reads()
    page.clock.fast_forward(3 * period)
    page.wait_for_timeout(200)
    assert reads() == after and len(feedback.sent) == 2
