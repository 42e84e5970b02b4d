"""The API description is true: schemathesis (its Python API: the engine its command line
runs) fuzzes every operation of ``/api/v1/openapi.json`` against Plume served over HTTP as
production builds it (``create_app``, the real PostgreSQL, Entra ID tokens from the fake
identity provider, the fake model host), and the test fails on any 5xx, any status, media
type, header or body the document does not announce, any request the document says is
valid but the server refuses, and any the document says is invalid but the server takes.

Bounded: the examples, coverage and fuzzing phases, :data:`MAX_EXAMPLES` per operation,
derandomised, so a run takes about a minute and fails the same way twice.
"""
from __future__ import annotations

import pytest
import schemathesis
from schemathesis.config import SchemathesisConfig
from schemathesis.engine import Status, events, from_schema

from backend import create_app, db
from tests.conftest import BASE_CONFIG, LiveServer, truncate_all

MAX_EXAMPLES = 25
ROLES = ["Plume.Magistrat", "Plume.Greffier", "Plume.Admin"]
ACCEPTED = ["2xx", "3xx", "401", "403", "404", "409", "429", "5xx"]

# Constraints JSON Schema cannot state, so a schema-valid request may still be refused
# (each with its 4xx documented): a file's content must be a real .docx/.pdf or recording;
# the assistance body depends on the task in the path (draft needs instructions, the
# others text); the observatory's period is bounded across its two dates.
CONFIG = f"""
# Hypothesis' health checks judge the generator, not the server.
suppress-health-check = ["all"]

[generation]
max-examples = {MAX_EXAMPLES}
deterministic = true
# Every text is refused with a NUL byte (400, the document says so in prose): PostgreSQL
# cannot store one. JSON Schema has no way to say it of every string at once.
allow-x00 = false
[phases]
stateful.enabled = false

[[operations]]
include-path-regex = "^/api/v1/(attachments/summarize|transcribe|transcriptions(/.*)?)$"
checks.positive_data_acceptance.expected-statuses = {ACCEPTED + ["400", "413", "415", "422", "503"]}

[[operations]]
include-path-regex = "^/api/v1/dossiers$"
# Each file is inspected in a sandbox child in the request: seconds on a loaded machine.
request-timeout = 60
checks.positive_data_acceptance.expected-statuses = {ACCEPTED + ["400", "413", "415", "422", "503"]}

[[operations]]
include-path-regex = "^/api/v1/assist/"
checks.positive_data_acceptance.expected-statuses = {ACCEPTED + ["400", "413"]}

[[operations]]
include-path-regex = "^/api/v1/pseudonymize$"
# Its speed is measured by bench/pseudonymize.py; here a long text on a loaded machine may take
# more than the default ten seconds, which says nothing of the description.
request-timeout = 60
# A text over its maxLength is a 413 (« découpez-le »), as any body too large to take.
checks.negative_data_rejection.expected-statuses = ["400", "401", "403", "404", "405", "406", "409", "413", "415", "422", "428", "429", "5xx"]

[[operations]]
include-path-regex = "^/api/v1/(observatory/|search$)"
checks.positive_data_acceptance.expected-statuses = {ACCEPTED + ["400"]}
"""


@pytest.fixture
def served_url(database_url, idp):
    """Plume signing users in with (fake) Entra ID tokens, answering with the fake host."""
    from tests.fakes.idp import CLIENT_ID, TENANT
    from tests.fakes.upstream import FakeUpstream

    with FakeUpstream() as upstream:
        app = create_app({**BASE_CONFIG, "DATABASE_URL": database_url,
                          "AUTH_MODE": "entra", "AUTH_TENANT_ID": TENANT,
                          "AUTH_CLIENT_ID": CLIENT_ID, "AUTH_OPENID_CONFIG_URL": idp.discovery_url,
                          "LLM_BASE_URL": upstream.url, "LLM_MODEL": "fake-chat",
                          "LLM_RETRIES": 0, "QUOTA_REQUESTS_PER_MINUTE": 0})
        server = LiveServer(app)
        try:
            yield server.url
        finally:
            server.stop()
            db.close(app)
    truncate_all(database_url)


def failures_of(schema) -> list[str]:
    """Every check that failed, as « operation: title (check): message, and a curl »."""
    found: dict[str, str] = {}
    for event in from_schema(schema).execute():
        if isinstance(event, events.NonFatalError):
            found.setdefault(f"{event.label}: error", f"{event.label}: {event.value!r}")
        recorder = getattr(event, "recorder", None)
        if recorder is None or getattr(event, "status", None) != Status.FAILURE:
            continue
        for nodes in recorder.checks.values():
            for node in nodes:
                if node.status == Status.FAILURE and node.failure_info is not None:
                    failure = node.failure_info.failure
                    key = f"{recorder.label}: {failure.title} ({node.name})"
                    found.setdefault(key, f"{key}: {str(failure.message)[:300]}\n"
                                          f"{node.failure_info.code_sample[:4000]}")
    return sorted(found.values())


def test_every_operation_keeps_its_description(served_url, idp):
    config = SchemathesisConfig.from_str(CONFIG)
    schema = schemathesis.openapi.from_url(f"{served_url}/api/v1/openapi.json", config=config)
    schema.config.update(base_url=served_url,
                         headers={"Authorization": f"Bearer {idp.token(roles=ROLES)}"})
    failures = failures_of(schema)
    assert not failures, f"{len(failures)} failure(s):\n\n" + "\n\n".join(failures)
