"""The add-in manifests a tenant admin uploads: valid for Office, complete, and self-served.

Every rendered manifest is validated against Microsoft's schemas (copied in
``manifest/schemas/`` with their provenance note), and every URL in it is fetched from
Plume: a manifest that points at a missing icon or pane fails here, not in the admin center.
"""
from __future__ import annotations

import os
import struct
import subprocess
import sys
import uuid
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from lxml import etree

from backend import config, manifests
from backend.settings import ConfigError

NS = {
    "o": "http://schemas.microsoft.com/office/appforoffice/1.1",
    "bt": "http://schemas.microsoft.com/office/officeappbasictypes/1.0",
    "tp": "http://schemas.microsoft.com/office/taskpaneappversionoverrides",
    "m10": "http://schemas.microsoft.com/office/mailappversionoverrides",
    "m11": "http://schemas.microsoft.com/office/mailappversionoverrides/1.1",
}
XSI_TYPE = "{http://www.w3.org/2001/XMLSchema-instance}type"
CLIENT_ID = "0b6b1d3e-5c1a-4f5e-9a3e-2f1c4d5e6f70"
ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def schema() -> etree.XMLSchema:
    return etree.XMLSchema(etree.parse(str(manifests.SCHEMA_FILE)))


def load(**environ: str) -> dict:
    return config.load(environ={"PLUME_ENV": "development", **environ})


def render(base_url: str = "https://plume.justice.fr", client_id: str | None = CLIENT_ID,
           **environ: str) -> dict[str, etree._Element]:
    rendered = manifests.render_all(base_url, load(**environ), client_id)
    return {name: etree.fromstring(xml.encode("utf-8")) for name, xml in rendered.items()}


def urls_in(root: etree._Element) -> set[str]:
    """Every http(s) URL in attributes or text, AppDomains (origins, not pages) aside."""
    found = set()
    for element in root.iter(etree.Element):
        if element.tag == f"{{{NS['o']}}}AppDomain":
            continue
        for value in [*element.attrib.values(), element.text or ""]:
            value = value.strip()
            if value.startswith(("http://", "https://")):
                found.add(value)
    return found


@pytest.mark.parametrize("base_url,client_id,environ", [
    ("https://plume.justice.fr", None, {"PLUME_ENVIRONMENT_NAME": "production",
                                       "PLUME_AUTH_CLIENT_ID": CLIENT_ID}),
    ("https://localhost:3000", None, {}),
    ("http://localhost:3000", None, {"PLUME_ENVIRONMENT_NAME": "poste-essai"}),
    ("https://recette.plume.justice.fr/sous-chemin/", CLIENT_ID,
     {"PLUME_ENVIRONMENT_NAME": "recette", "PLUME_ADDIN_VERSION": "2.3.1.7"}),
])
def test_every_rendered_manifest_passes_the_office_schemas(schema, base_url, client_id, environ):
    rendered = manifests.render_all(base_url, load(**environ), client_id)
    assert set(rendered) == {"word", "outlook"}
    for name, xml in rendered.items():
        document = etree.fromstring(xml.encode("utf-8"))
        assert schema.validate(document), f"{name}: {schema.error_log}"


def test_every_url_in_the_manifests_is_served_by_plume(client):
    base = "https://localhost:3000"
    for name, root in render(base).items():
        urls = urls_in(root)
        assert urls, name
        for url in urls:
            assert url.startswith(base + "/"), f"{name} points outside Plume: {url}"
            response = client.get(urlsplit(url).path)
            assert response.status_code == 200, f"{name}: {url} -> {response.status_code}"
        assert [d.text for d in root.iterfind("o:AppDomains/o:AppDomain", NS)] == [base]


def test_ribbon_and_catalogue_icons_have_the_size_the_manifest_declares(client):
    for name, root in render().items():
        images = {image.get("id"): image.get("DefaultValue")
                  for image in root.iterfind(".//bt:Images/bt:Image", NS)}
        declared = [(int(ref.get("size")), images[ref.get("resid")])
                    for ref in root.iterfind(".//bt:Image[@size]", NS)]
        declared += [(32 if name == "word" else 64, root.find("o:IconUrl", NS).get("DefaultValue")),
                     (64 if name == "word" else 128,
                      root.find("o:HighResolutionIconUrl", NS).get("DefaultValue"))]
        assert {size for size, _ in declared} >= {16, 32, 80}
        for size, url in declared:
            response = client.get(urlsplit(url).path)
            assert response.mimetype == "image/png"
            width, height = struct.unpack(">II", response.data[16:24])
            assert (width, height) == (size, size), url


def test_word_manifest_opens_the_word_pane_from_a_ribbon_button():
    word = render()["word"]
    assert word.get(XSI_TYPE) == "TaskPaneApp"
    assert [h.get("Name") for h in word.iterfind("o:Hosts/o:Host", NS)] == ["Document"]
    assert word.find("o:DefaultSettings/o:SourceLocation", NS).get("DefaultValue") \
        == "https://plume.justice.fr/addin/word/"
    overrides = word.find("tp:VersionOverrides", NS)
    assert overrides.get(XSI_TYPE) == "VersionOverridesV1_0"
    [surface] = overrides.iterfind(".//tp:ExtensionPoint", NS)
    assert surface.get(XSI_TYPE) == "PrimaryCommandSurface"
    assert surface.find("tp:OfficeTab", NS).get("id") == "TabHome"
    action = surface.find(".//tp:Control/tp:Action", NS)
    assert action.get(XSI_TYPE) == "ShowTaskpane"
    assert overrides.find(f".//bt:Url[@id='{action.find('tp:SourceLocation', NS).get('resid')}']",
                          NS).get("DefaultValue") == "https://plume.justice.fr/addin/word/"
    word_api = word.find("o:Requirements/o:Sets/o:Set", NS)
    assert word_api.get("Name") == "WordApi"


def test_word_manifest_carries_the_entra_registration_for_sso():
    info = render("https://plume.justice.fr")["word"].find(".//tp:WebApplicationInfo", NS)
    assert info.findtext("tp:Id", namespaces=NS) == CLIENT_ID
    assert info.findtext("tp:Resource", namespaces=NS) == f"api://plume.justice.fr/{CLIENT_ID}"


def test_client_id_defaults_to_the_auth_setting_and_is_left_out_in_dev_sign_in():
    with_setting = manifests.render_all("https://plume.justice.fr",
                                        load(PLUME_AUTH_CLIENT_ID=CLIENT_ID))
    assert f"<Id>{CLIENT_ID}</Id>" in with_setting["word"]
    without = render(client_id=None)["word"]
    assert without.find(".//tp:WebApplicationInfo", NS) is None


def test_outlook_manifest_covers_read_and_compose_with_mailbox_requirements():
    outlook = render()["outlook"]
    assert outlook.get(XSI_TYPE) == "MailApp"
    forms = {form.get(XSI_TYPE) for form in outlook.iterfind("o:FormSettings/o:Form", NS)}
    assert forms == {"ItemRead", "ItemEdit"}
    rules = {(r.get("ItemType"), r.get("FormType")) for r in outlook.iterfind("o:Rule/o:Rule", NS)}
    assert rules == {("Message", "Read"), ("Message", "Edit")}
    v10 = outlook.find("m10:VersionOverrides", NS)
    v11 = v10.find("m11:VersionOverrides", NS)
    assert (v10.get(XSI_TYPE), v11.get(XSI_TYPE)) == ("VersionOverridesV1_0", "VersionOverridesV1_1")
    # Attachments are read with getAttachmentContentAsync, which needs Mailbox 1.8.
    assert v11.find("m11:Requirements/bt:Sets", NS).get("DefaultMinVersion") == "1.8"
    assert v11.find("m11:Requirements/bt:Sets/bt:Set", NS).get("Name") == "Mailbox"
    for overrides, ns in ((v10, "m10"), (v11, "m11")):
        surfaces = {e.get(XSI_TYPE) for e in overrides.iterfind(f"{ns}:Hosts//{ns}:ExtensionPoint", NS)}
        assert surfaces == {"MessageReadCommandSurface", "MessageComposeCommandSurface"}
    pane = {url.get("DefaultValue") for url in outlook.iterfind(".//bt:Url", NS)}
    assert pane == {"https://plume.justice.fr/addin/outlook/"}
    # The message on screen only, unless the administrator lets Plume add missing categories.
    assert outlook.findtext("o:Permissions", namespaces=NS) == "ReadWriteItem"


def test_managing_categories_asks_for_the_mailbox_permission_and_stays_valid(schema):
    outlook = render(PLUME_OUTLOOK_MANAGE_CATEGORIES="true")["outlook"]
    assert outlook.findtext("o:Permissions", namespaces=NS) == "ReadWriteMailbox"
    assert schema.validate(outlook), schema.error_log


def test_manifests_speak_french_and_name_non_production_deployments():
    production = manifests.render_all("https://plume.justice.fr", load(
        PLUME_ENVIRONMENT_NAME="production"))
    recette = render(PLUME_ENVIRONMENT_NAME="recette")
    for name, xml in production.items():
        root = etree.fromstring(xml.encode())
        assert root.findtext("o:DefaultLocale", namespaces=NS) == "fr-FR"
        assert root.find("o:DisplayName", NS).get("DefaultValue") == "Plume"
        assert "Assistant IA souverain" in root.find("o:Description", NS).get("DefaultValue")
        assert recette[name].find("o:DisplayName", NS).get("DefaultValue") == "Plume (recette)"
    assert "Analyser avec Plume" in production["outlook"]


def test_add_in_ids_are_stable_per_deployment_and_distinct_between_deployments():
    def ids(base="https://plume.justice.fr", **environ):
        return {name: root.findtext("o:Id", namespaces=NS)
                for name, root in render(base, **environ).items()}

    first = ids(PLUME_ENVIRONMENT_NAME="production")
    assert first == ids(PLUME_ENVIRONMENT_NAME="production")
    assert first["word"] != first["outlook"]
    assert all(uuid.UUID(value) for value in first.values())
    assert set(first.values()).isdisjoint(ids(PLUME_ENVIRONMENT_NAME="recette").values())
    assert set(first.values()).isdisjoint(
        ids("https://autre.justice.fr", PLUME_ENVIRONMENT_NAME="production").values())
    forced = "a3c7e0f2-1b2c-4d5e-8f90-123456789abc"
    assert ids(PLUME_ADDIN_ID_OUTLOOK=forced)["outlook"] == forced


def test_version_defaults_to_the_backend_version_and_can_be_raised():
    from backend import __version__

    default = render()["word"].findtext("o:Version", namespaces=NS)
    assert default.startswith(__version__) and default.count(".") == 3
    assert render(PLUME_ADDIN_VERSION="1.4.0.2")["outlook"].findtext(
        "o:Version", namespaces=NS) == "1.4.0.2"


@pytest.mark.parametrize("environ,needle", [
    ({"PLUME_ADDIN_ID_WORD": "plume-word"}, "PLUME_ADDIN_ID_WORD"),
    ({"PLUME_ADDIN_VERSION": "1.0-beta"}, "PLUME_ADDIN_VERSION"),
    ({"PLUME_ENVIRONMENT_NAME": "Recette Paris"}, "PLUME_ENVIRONMENT_NAME"),
])
def test_settings_office_would_reject_stop_the_start(environ, needle):
    with pytest.raises(ConfigError) as info:
        load(**environ)
    assert needle in str(info.value)


@pytest.mark.parametrize("base_url", ["http://plume.justice.fr", "ftp://localhost",
                                      "plume.justice.fr", "https://plume.justice.fr/?x=1"])
def test_a_base_url_office_cannot_load_is_refused_in_french(base_url):
    with pytest.raises(manifests.ManifestError) as info:
        manifests.render_all(base_url, load())
    assert "adresse de base" in str(info.value)


def test_cli_writes_both_manifests(app, tmp_path):
    result = app.test_cli_runner().invoke(args=[
        "manifest", "--base-url", "https://plume.justice.fr", "--out", str(tmp_path / "out"),
        "--client-id", CLIENT_ID])
    assert result.exit_code == 0, result.output
    written = sorted(p.name for p in (tmp_path / "out").iterdir())
    assert written == ["plume-outlook.xml", "plume-word.xml"]
    assert "Manifestes version" in result.output
    word = (tmp_path / "out" / "plume-word.xml").read_text(encoding="utf-8")
    assert f"api://plume.justice.fr/{CLIENT_ID}" in word


def test_cli_refuses_plain_http_outside_localhost_and_writes_nothing(app, tmp_path):
    result = app.test_cli_runner().invoke(args=[
        "manifest", "--base-url", "http://plume.justice.fr", "--out", str(tmp_path / "out")])
    assert result.exit_code != 0
    assert "doit être en https" in result.output
    assert not (tmp_path / "out").exists()


def test_cli_defaults_to_the_public_url(make_app, tmp_path):
    app = make_app(PUBLIC_URL="https://plume.justice.fr")
    result = app.test_cli_runner().invoke(args=["manifest", "--out", str(tmp_path)])
    assert result.exit_code == 0, result.output
    outlook = (tmp_path / "plume-outlook.xml").read_text(encoding="utf-8")
    assert "https://plume.justice.fr/addin/outlook/" in outlook
    assert "WebApplicationInfo" in result.output  # dev sign-in: the admin is told SSO is left out


def test_a_client_id_that_is_not_a_guid_is_refused_in_french(app, tmp_path):
    result = app.test_cli_runner().invoke(args=[
        "manifest", "--base-url", "https://plume.justice.fr", "--out", str(tmp_path),
        "--client-id", "plume-api"])
    assert result.exit_code != 0
    assert "doit être un GUID" in result.output
    assert list(tmp_path.iterdir()) == []


def run_manifest_command(tmp_path, *args: str, **environ: str) -> subprocess.CompletedProcess:
    """`python -m backend manifest` as an administrator runs it, with only ``environ`` set."""
    env = {k: v for k, v in os.environ.items()
           if not k.startswith("PLUME_") and k not in {"DATABASE_URL", "PORT"}}
    return subprocess.run([sys.executable, "-m", "backend", "manifest", "--out", str(tmp_path / "out"), *args],
                          cwd=ROOT, env={**env, **environ}, capture_output=True, text=True, timeout=120)


def test_production_manifests_need_only_what_a_manifest_contains(schema, tmp_path):
    # No audit key, no identity provider tenant, no database: a production server would refuse
    # to start like this, but the manifests have all they need.
    done = run_manifest_command(tmp_path, PLUME_ENV="production", PLUME_PUBLIC_URL="https://plume.justice.fr",
                                PLUME_AUTH_CLIENT_ID=CLIENT_ID, PLUME_ADDIN_VERSION="1.4.0.0",
                                # Server settings a manifest does not contain are not even read.
                                PLUME_AUDIT_RETENTION_DAYS="pas un nombre", PLUME_LLM_TIMEOUT_TOTAL="-1")
    assert done.returncode == 0, done.stderr
    assert "Manifestes version 1.4.0.0 pour https://plume.justice.fr (environnement « production »)" in done.stdout
    word = etree.parse(str(tmp_path / "out" / "plume-word.xml")).getroot()
    outlook = etree.parse(str(tmp_path / "out" / "plume-outlook.xml")).getroot()
    for root in (word, outlook):
        assert schema.validate(root), schema.error_log
    assert f"api://plume.justice.fr/{CLIENT_ID}" in etree.tostring(word, encoding="unicode")
    assert "https://plume.justice.fr/addin/outlook/" in etree.tostring(outlook, encoding="unicode")
    # The same add-in ids as the server derives for this deployment: an update, not a new add-in.
    assert word.findtext("o:Id", namespaces=NS) == manifests.addin_id("word", "production", "https://plume.justice.fr")
    assert outlook.findtext("o:Id", namespaces=NS) == manifests.addin_id("outlook", "production",
                                                                        "https://plume.justice.fr")


def test_the_manifest_command_still_refuses_a_bad_manifest_setting_in_french(tmp_path):
    done = run_manifest_command(tmp_path, PLUME_ENV="production", PLUME_PUBLIC_URL="https://plume.justice.fr",
                                PLUME_ADDIN_ID_WORD="pas-un-guid")
    assert done.returncode != 0
    assert "Configuration invalide : PLUME_ADDIN_ID_WORD='pas-un-guid' must be a GUID" in done.stderr
    assert not (tmp_path / "out").exists()
    done = run_manifest_command(tmp_path, "--base-url", "http://plume.justice.fr", PLUME_ENV="production")
    assert done.returncode != 0 and "doit être en https" in done.stderr
    assert not (tmp_path / "out").exists()
