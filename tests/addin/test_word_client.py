"""The shared client code (addin/common) as the browser runs it: the SSE reader and the
text-only rendering. Runs the real ES modules served by Plume in Chromium."""
from __future__ import annotations

import json

import pytest

STREAM = ('event: delta\r\ndata: {"text": "Bonjour é"}\r\n\r\n'
          ': keep-alive\n\n'
          'event: sources\ndata: {"sources": [{"n": 1}],\ndata:  "flags": []}\n\n'
          'event: done\rdata: {"interaction_id": "abc"}\r\r'
          'event: delta\ndata: {"text": "unterminated"}')


@pytest.fixture
def module_page(make_app, serve_app, open_pane):
    base = serve_app(make_app())
    page = open_pane(base, "/addin/index.html", wait_ready=False)
    return page


def parse_in_chunks(page, text: str, size: int) -> list[dict]:
    """Feed the stream's UTF-8 bytes in chunks of ``size`` through readEvents()."""
    return page.evaluate("""async ([text, size]) => {
        const { readEvents } = await import('/addin/common/api.js');
        const bytes = new TextEncoder().encode(text);
        const body = new ReadableStream({
            start(controller) {
                for (let i = 0; i < bytes.length; i += size) controller.enqueue(bytes.slice(i, i + size));
                controller.close();
            },
        });
        const events = [];
        for await (const event of readEvents(new Response(body))) events.push(event);
        return events;
    }""", [text, size])


@pytest.mark.parametrize("size", [1, 2, 3, 7, 64, 10_000])
def test_events_split_anywhere_across_chunks_are_read_whole(module_page, size):
    events = parse_in_chunks(module_page, STREAM, size)
    assert [e["event"] for e in events] == ["delta", "sources", "done"]
    assert events[0]["data"] == {"text": "Bonjour é"}  # a 2-byte character split in two chunks
    assert events[1]["data"] == {"sources": [{"n": 1}], "flags": []}  # two data lines joined
    assert events[2]["data"] == {"interaction_id": "abc"}  # bare CR line endings


def test_model_text_is_rendered_as_text_never_as_html(module_page):
    hostile = 'Voir <img src=x onerror="window.__pwned=1"> et <script>window.__pwned=2</script> **gras** (§ 3) [2]'
    result = module_page.evaluate("""async (text) => {
        const { renderAnswer, renderHighlighted } = await import('/addin/common/render.js');
        const box = document.createElement('div');
        document.body.append(box);
        renderAnswer(box, text, { onParagraphRef: () => {}, onSourceRef: () => {} });
        const passage = document.createElement('p');
        passage.append(renderHighlighted('<b>faute</b> <mark>grave</mark>', {}));
        await new Promise((resolve) => setTimeout(resolve, 50));
        return {
            text: box.textContent,
            tags: [...box.querySelectorAll('*')].map((el) => el.tagName.toLowerCase()),
            refs: [...box.querySelectorAll('button')].map((b) => b.textContent),
            marks: [...passage.querySelectorAll('mark')].map((m) => m.textContent),
            passage: passage.textContent,
            pwned: window.__pwned || null,
        };
    }""", hostile)
    assert result["pwned"] is None
    assert "img" not in result["tags"] and "script" not in result["tags"]
    assert '<img src=x onerror="window.__pwned=1">' in result["text"]
    assert result["refs"] == ["§\u00a03", "[2]"]  # « § 3 » never split across lines
    assert "strong" in result["tags"]
    # <mark> markers from the server become real highlights; any other markup stays text.
    assert result["marks"] == ["grave"]
    assert result["passage"] == "<b>faute</b> grave"


def test_query_terms_highlight_accent_insensitively(module_page):
    marks = module_page.evaluate("""async () => {
        const { queryTerms, highlightSegments } = await import('/addin/common/render.js');
        return highlightSegments('Le licenciement du salarié pour faute grave est rejeté.',
                                 { terms: queryTerms('licencier salarie faute') })
            .filter((s) => s.mark).map((s) => s.text);
    }""")
    assert marks == ["licenciement", "salarié", "faute"]


def test_french_error_for_each_failure(module_page):
    cases = [
        {"status": 401, "code": "non_authentifie"},
        {"status": 403, "code": "acces_refuse"},
        {"status": 429, "code": "quota_depasse", "retryAfter": 120},
        {"status": 503, "code": "non_configure", "message": "Renseignez PLUME_LLM_BASE_URL."},
        {"status": 502, "code": "amont_indisponible"},
        {"status": 0, "code": "reseau"},
    ]
    described = module_page.evaluate("""async (cases) => {
        const { ApiError } = await import('/addin/common/api.js');
        const { describeError } = await import('/addin/common/errors.js');
        return cases.map((c) => describeError(new ApiError(c)));
    }""", cases)
    titles = [d["title"] for d in described]
    assert titles == ["Connexion requise", "Accès refusé", "Quota atteint", "Fonction non configurée",
                      "Service d'IA indisponible", "Serveur injoignable"]
    assert described[2]["action"] == "Réessayez dans 2 minutes."
    assert described[3]["message"] == "Renseignez PLUME_LLM_BASE_URL."
    assert all(d["action"] for d in described), json.dumps(described, ensure_ascii=False)


def test_users_never_read_setting_names_nor_api_versions(module_page):
    shown = module_page.evaluate("""async () => {
        const { userText } = await import('/addin/common/messagebar.js');
        return [
            userText("Modèle de démonstration local : les réponses sont lentes. Ne l'utilisez pas pour un vrai dossier ; l'administrateur doit configurer PLUME_LLM_BASE_URL vers l'hôte souverain du ministère."),
            userText('Cette version de Word ne permet pas à Plume de lire ou modifier le document (WordApi 1.1 requis).'),
            userText('Les vecteurs des passages sont en cours de calcul : résultats par mots seulement.', 'Repli.'),
            userText('Tout va bien.'),
        ];
    }""")
    assert shown == [
        "Modèle de démonstration local : les réponses sont lentes. Ne l'utilisez pas pour un vrai dossier.",
        "Cette version de Word ne permet pas à Plume de lire ou modifier le document.",
        "Repli.",
        "Tout va bien.",
    ]


def test_each_failure_gets_one_sentence_and_one_action(module_page):
    cases = [
        {"status": 401, "code": "non_authentifie", "message": "Votre session a expiré."},
        {"status": 403, "code": "acces_refuse"},
        {"status": 429, "code": "quota_depasse", "retryAfter": 42,
         "message": "Vous avez envoyé trop de demandes en peu de temps. Réessayez dans 42 secondes."},
        {"status": 503, "code": "non_configure", "message": "Renseignez PLUME_LLM_BASE_URL."},
        {"status": 502, "code": "amont_indisponible"},
        {"status": 413, "code": "trop_volumineux"},
        {"status": 0, "code": "reseau"},
    ]
    problems = module_page.evaluate("""async (cases) => {
        const { ApiError } = await import('/addin/common/api.js');
        const { describeError } = await import('/addin/common/errors.js');
        const { adminReport, problemOf } = await import('/addin/common/messagebar.js');
        return cases.map((c) => {
            const err = new ApiError(c);
            const problem = problemOf(err, describeError(err));
            return { ...problem, report: adminReport(problem) };
        });
    }""", cases)
    assert [p["action"] for p in problems] == ["sign-in", "report", "retry", "report", "retry", "none", "retry"]
    assert problems[2]["wait"] == 42 and "Réessayez" not in problems[2]["sentence"]
    assert "PLUME_" not in problems[3]["sentence"] and "PLUME_LLM_BASE_URL" in problems[3]["report"]
    assert "plus courte" in problems[5]["sentence"]  # no button: the sentence says what to do
    for problem in problems:
        assert problem["sentence"] and "Code : " + problem["code"] in problem["report"]


def test_refine_keeps_the_request_and_fences_the_previous_answer(module_page):
    body = module_page.evaluate("""async () => {
        const { refinePayload, PREVIOUS_ANSWER_LINE } = await import('/addin/common/answerbar.js');
        const body = refinePayload({ text: 'Le mail.', subject: 'Objet', tone: 'neutre', instructions: 'Accuser réception.' },
                                   'Réponse A.', 'plus court');
        return { ...body, line: PREVIOUS_ANSWER_LINE };
    }""")
    assert body["subject"] == "Objet" and body["tone"] == "neutre"
    assert body["text"] == f"Le mail.\n\n{body['line']}\nRéponse A."
    assert body["instructions"].startswith("Accuser réception.\n\n") and "plus court" in body["instructions"]
    assert "Réponse A." not in body["instructions"]
