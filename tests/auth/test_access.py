"""Who reaches what: roles decide tasks and pages, jurisdictions come from a claim or the
admin-managed mapping, and the development user never leaves the loopback interface."""
from __future__ import annotations

import pytest

from backend import auth, config
from backend.settings import ConfigError
from tests.fakes.idp import USER_OID

from .conftest import bearer

MAGISTRAT, GREFFIER, ADMIN = auth.ROLE_MAGISTRAT, auth.ROLE_GREFFIER, auth.ROLE_ADMIN
MAGISTRATE_TASKS = ["summarize", "rewrite", "draft"]
CLERK_TASKS = ["mail-summary", "mail-reply", "attachment-summary"]


@pytest.mark.parametrize("task", MAGISTRATE_TASKS)
def test_greffier_cannot_reach_the_magistrates_tasks(entra_client, idp, task):
    response = entra_client.post(f"/api/v1/probe/task/{task}", headers=bearer(idp.token(roles=[GREFFIER])))
    assert response.status_code == 403
    assert response.json == {"error": "acces_refuse",
                             "message": "Votre rôle ne permet pas d'accéder à cette fonction."}


@pytest.mark.parametrize("task", CLERK_TASKS)
def test_magistrat_cannot_reach_the_clerks_tasks(entra_client, idp, task):
    response = entra_client.post(f"/api/v1/probe/task/{task}", headers=bearer(idp.token(roles=[MAGISTRAT])))
    assert response.status_code == 403


@pytest.mark.parametrize("roles,task", [([MAGISTRAT], "draft"), ([GREFFIER], "mail-reply"),
                                        ([GREFFIER], "search"), ([MAGISTRAT], "transcribe")])
def test_each_role_reaches_its_own_tasks(entra_client, idp, roles, task):
    assert entra_client.post(f"/api/v1/probe/task/{task}",
                             headers=bearer(idp.token(roles=roles))).status_code == 200


def test_unknown_task_is_refused_to_everyone(entra_client, idp):
    token = idp.token(roles=[MAGISTRAT, GREFFIER, ADMIN])
    assert entra_client.post("/api/v1/probe/task/launch-missiles", headers=bearer(token)).status_code == 403


@pytest.mark.parametrize("path", ["/api/v1/probe/admin", "/api/v1/admin/jurisdictions",
                                  "/api/v1/observatory/summary"])
def test_only_admins_reach_admin_pages(entra_client, idp, path):
    for roles in ([MAGISTRAT], [GREFFIER], [MAGISTRAT, GREFFIER]):
        response = entra_client.get(path, headers=bearer(idp.token(roles=roles)))
        assert response.status_code == 403, (roles, response.json)
        assert response.json["error"] == "acces_refuse"
    assert entra_client.get(path, headers=bearer(idp.token(roles=[ADMIN]))).status_code == 200


def test_me_lists_the_tasks_a_role_reaches(entra_client, idp):
    me = entra_client.get("/api/v1/me", headers=bearer(idp.token(roles=[GREFFIER]))).json
    assert me["roles"] == [GREFFIER]
    assert set(me["tasks"]) == {"mail-summary", "mail-reply", "attachment-summary", "transcribe", "search",
                                "translate"}
    assert me["budgets"]["generation"] == {"budget": 200000, "spent": 0}


# -- jurisdictions ---------------------------------------------------------------------

def _jurisdictions(client, token) -> list[str]:
    return client.get("/api/v1/probe/whoami", headers=bearer(token)).json["jurisdictions"]


def test_jurisdictions_come_from_the_admin_mapping(entra_client, idp):
    admin = bearer(idp.token(roles=[ADMIN], oid="a0000000-0000-4000-8000-000000000001"))
    assert _jurisdictions(entra_client, idp.token()) == []

    response = entra_client.put("/api/v1/admin/jurisdictions/Jeanne.Martin@Justice.fr", headers=admin,
                                json={"jurisdictions": ["Cour d'appel de Paris", " Tribunal judiciaire  de Créteil "]})
    assert response.status_code == 200
    assert response.json == {"user": "jeanne.martin@justice.fr",
                             "jurisdictions": ["Cour d'appel de Paris", "Tribunal judiciaire de Créteil"]}
    assert _jurisdictions(entra_client, idp.token()) == ["Cour d'appel de Paris",
                                                         "Tribunal judiciaire de Créteil"]

    # A mapping by object id wins over one by sign-in name.
    entra_client.put(f"/api/v1/admin/jurisdictions/{USER_OID.upper()}", headers=admin,
                     json={"jurisdictions": ["Cour d'appel de Lyon"]})
    assert _jurisdictions(entra_client, idp.token()) == ["Cour d'appel de Lyon"]

    listed = entra_client.get("/api/v1/admin/jurisdictions", headers=admin).json["mappings"]
    assert [m["user"] for m in listed] == [USER_OID, "jeanne.martin@justice.fr"]
    assert entra_client.delete(f"/api/v1/admin/jurisdictions/{USER_OID}", headers=admin).status_code == 204
    assert entra_client.delete(f"/api/v1/admin/jurisdictions/{USER_OID}", headers=admin).status_code == 404
    assert _jurisdictions(entra_client, idp.token()) == ["Cour d'appel de Paris",
                                                         "Tribunal judiciaire de Créteil"]


def test_guests_are_matched_by_object_id_only(entra_client, idp):
    """A guest's sign-in name is an address another organisation controls: never trusted."""
    admin = bearer(idp.token(roles=[ADMIN], oid="a0000000-0000-4000-8000-000000000001"))
    entra_client.put("/api/v1/admin/jurisdictions/jeanne.martin@justice.fr", headers=admin,
                     json={"jurisdictions": ["Cour d'appel de Paris"]})
    guest = idp.token(oid="e0000000-0000-4000-8000-000000000005", idp="https://sts.windows.net/other/")
    assert _jurisdictions(entra_client, guest) == []
    entra_client.put("/api/v1/admin/jurisdictions/e0000000-0000-4000-8000-000000000005", headers=admin,
                     json={"jurisdictions": ["TJ de Nanterre"]})
    assert _jurisdictions(entra_client, guest) == ["TJ de Nanterre"]


def test_admin_mapping_rejects_bad_lists_in_french(entra_client, idp):
    admin = bearer(idp.token(roles=[ADMIN]))
    for body in ({"jurisdictions": "Paris"}, {"jurisdictions": [""]}, {"jurisdictions": [42]}, []):
        response = entra_client.put("/api/v1/admin/jurisdictions/someone", headers=admin, json=body)
        assert response.status_code == 400
        assert response.json["field"] == "jurisdictions"
        assert "juridiction" in response.json["message"]


def test_jurisdictions_claim_wins_when_configured(entra_app, idp):
    client = entra_app(AUTH_JURISDICTIONS_CLAIM="extn.juridictions").test_client()
    token = idp.token(**{"extn.juridictions": ["Cour d'appel de Douai", "TJ de Lille"]})
    assert _jurisdictions(client, token) == ["Cour d'appel de Douai", "TJ de Lille"]
    assert _jurisdictions(client, idp.token(**{"extn.juridictions": "TJ de Lille, TJ d'Arras"})) == [
        "TJ d'Arras", "TJ de Lille"]


def test_cli_manages_the_mapping(entra_app, idp):
    app = entra_app()
    runner = app.test_cli_runner()
    result = runner.invoke(args=["users", "set-jurisdictions", "Jeanne.Martin@justice.fr",
                                 "Cour d'appel de Paris", "TJ de Meaux"])
    assert result.exit_code == 0, result.output
    assert result.output.strip() == "jeanne.martin@justice.fr : Cour d'appel de Paris, TJ de Meaux"
    assert "TJ de Meaux" in runner.invoke(args=["users", "list"]).output
    assert _jurisdictions(app.test_client(), idp.token()) == ["Cour d'appel de Paris", "TJ de Meaux"]
    assert runner.invoke(args=["users", "remove", "jeanne.martin@justice.fr"]).exit_code == 0
    assert runner.invoke(args=["users", "remove", "jeanne.martin@justice.fr"]).exit_code == 1
    assert "aucune" in runner.invoke(args=["users", "show", "jeanne.martin@justice.fr"]).output
    bad = runner.invoke(args=["users", "set-jurisdictions", "x", " "])
    assert bad.exit_code == 2 and "juridiction" in bad.output


# -- development mode ------------------------------------------------------------------

@pytest.mark.parametrize("environ,needle", [
    ({"PLUME_ENV": "production", "PLUME_AUTH_MODE": "dev", "PLUME_AUDIT_HASH_KEY": "k" * 32},
     "PLUME_ENV=development"),
    ({"PLUME_ENV": "development", "PLUME_HOST": "0.0.0.0"}, "loopback"),
    ({"PLUME_ENV": "development", "PLUME_AUTH_MODE": "dev", "PLUME_HOST": "10.1.2.3"}, "loopback"),
])
def test_dev_mode_is_refused_at_start_up_off_loopback(environ, needle):
    with pytest.raises(ConfigError) as info:
        config.load(environ=environ)
    assert needle in str(info.value)


def test_dev_user_is_refused_to_a_remote_peer(client):
    assert client.get("/api/v1/me").status_code == 200
    response = client.get("/api/v1/me", environ_base={"REMOTE_ADDR": "192.0.2.10"})
    assert response.status_code == 401
    assert response.json["message"] == "Le mode développement n'accepte que des connexions locales."
    proxied = client.get("/api/v1/me", headers={"X-Forwarded-For": "192.0.2.10"})
    assert proxied.status_code == 401, "a local proxy must not relay remote users to the dev user"


def test_dev_user_is_configurable(make_app):
    client = make_app(DEV_USER={"id": "greffe-1", "name": "Greffier de test", "roles": [GREFFIER],
                                "jurisdictions": ["TJ de Bobigny"]}).test_client()
    me = client.get("/api/v1/me").json
    assert me["name"] == "Greffier de test" and me["jurisdictions"] == ["TJ de Bobigny"]
    assert "draft" not in me["tasks"]


def test_client_config_shows_a_dev_banner_only_in_dev_mode(client, entra_client):
    dev = client.get("/api/v1/client-config").json
    assert dev["auth_mode"] == "dev"
    assert dev["dev_banner"].startswith("Mode développement")
    assert "Utilisateur de développement" in dev["dev_banner"]

    entra = entra_client.get("/api/v1/client-config")
    assert entra.status_code == 200, "public: the panes call it before signing in"
    assert entra.json == {
        "auth_mode": "entra", "client_id": "5e1b1c8e-1111-4222-8333-444455556666",
        "tenant_id": "72f988bf-0000-4000-8000-00000000a1b2",
        "api_scope": "api://localhost:3000/5e1b1c8e-1111-4222-8333-444455556666/access_as_user",
        "authority": "https://login.microsoftonline.com/72f988bf-0000-4000-8000-00000000a1b2",
        "dev_banner": None}
