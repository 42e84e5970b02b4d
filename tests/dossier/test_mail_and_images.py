"""A dossier whose mail carries its pièces and whose constat is a photograph: the mail's
attachments are read as files of the dossier (« courriel.eml › conclusions.pdf »), one level
deep, and images are recognised like scans; a damaged image and an image bomb get their
French error in the inventory while the job goes on."""
from __future__ import annotations

from email.message import EmailMessage
from urllib.parse import quote

from tests.documents.outlook import msg_bytes
from tests.documents.samples import image_bytes, pdf_bytes, png_bomb
from tests.dossier.conftest import finished, upload

CONSTAT = ["PROCÈS-VERBAL DE CONSTAT", "Le commissaire de justice constate une fissure",
           "traversant le mur du séjour sur toute sa hauteur."]


def courriel() -> bytes:
    message = EmailMessage()
    message["From"], message["To"] = "Me Claire Martin <martin@avocats.fr>", "greffe@justice.fr"
    message["Subject"] = "Dupont c/ Immobilière du Rhône : pièces"
    message.set_content("Madame la greffière, veuillez trouver ci-joint mes conclusions.")
    message.add_attachment(pdf_bytes([["Conclusions de M. Jean Dupont, demandeur."],
                                      ["M. Dupont demande 15 000 euros de dommages et intérêts."]]),
                           maintype="application", subtype="pdf", filename="conclusions.pdf")
    message.add_attachment(image_bytes([CONSTAT], "PNG"), maintype="image", subtype="png",
                           filename="constat.png")
    inner = EmailMessage()
    inner["From"], inner["Subject"] = "expert@cabinet.fr", "Rapport d'expertise"
    inner.set_content("Le rapport est joint.")
    inner.add_attachment(pdf_bytes([["Rapport."]]), maintype="application", subtype="pdf",
                         filename="rapport.pdf")
    message.add_attachment(inner)
    return message.as_bytes()


def test_a_mails_attachments_and_images_are_read_as_files_of_the_dossier(client, start_worker):
    outlook = msg_bytes(subject="Bordereau", sender="Me Martin", sender_email="martin@avocats.fr",
                        to="Greffe", body="Bordereau de communication de pièces.",
                        attachments=(("bordereau.pdf", pdf_bytes([["Bordereau : pièces 1 à 3."]])),))
    files = {"courriel.eml": courriel(), "bordereau.msg": outlook,
             "fax.tiff": image_bytes([CONSTAT, ["Deuxième page du constat."]], "TIFF"),
             "abimee.jpg": image_bytes([CONSTAT], "JPEG")[:300], "bombe.png": png_bomb()}
    response = upload(client, files)
    assert response.status_code == 201, response.get_json()
    created = response.get_json()
    inventory = {f["name"]: f for f in created["inventory"]}
    # Each attachment right after its mail; the attached mail's own attachment is not taken out.
    assert list(inventory) == ["courriel.eml", "courriel.eml › conclusions.pdf",
                               "courriel.eml › constat.png", "courriel.eml › message joint.eml",
                               "bordereau.msg", "bordereau.msg › bordereau.pdf", "fax.tiff",
                               "abimee.jpg", "bombe.png"]
    assert inventory["courriel.eml › conclusions.pdf"]["pages"] == 2
    assert (inventory["courriel.eml › constat.png"]["ocr_pages"], inventory["fax.tiff"]["pages"],
            inventory["fax.tiff"]["ocr_pages"]) == (1, 2, 2)
    assert inventory["abimee.jpg"]["error"] == {
        "error": "document_illisible", "message": "Cette image est endommagée ou illisible."}
    assert inventory["bombe.png"]["error"]["error"] == "trop_volumineux"
    assert inventory["bombe.png"]["error"]["message"].startswith("Cette image est trop grande")

    start_worker()
    dossier = finished(client, created["id"], timeout=120)
    assert dossier["state"] == "done", dossier
    assert dossier["progress"]["files_read"] == 7
    synthesis = client.get(f"/api/v1/dossiers/{created['id']}/synthesis").get_json()
    cited = {(r["file"], r["page"]) for s in synthesis["sections"] for i in s["items"]
             for r in i["references"] if r["verified"]}
    assert {("courriel.eml › conclusions.pdf", 2), ("courriel.eml › constat.png", 1),
            ("fax.tiff", 2), ("bordereau.msg › bordereau.pdf", 1)} <= cited
    facts = " ".join(i["references"][0]["quote"] or "" for i in synthesis["sections"][0]["items"])
    assert "PROCÈS-VERBAL DE CONSTAT Le commissaire" in facts  # the photograph, recognised
    served = client.get(f"/api/v1/dossiers/{created['id']}/files/"
                        + quote("courriel.eml › conclusions.pdf"))
    assert served.status_code == 200 and served.mimetype == "application/pdf"
    assert served.data.startswith(b"%PDF-")
    image = client.get(f"/api/v1/dossiers/{created['id']}/files/fax.tiff")
    assert image.mimetype == "image/tiff" and image.data == files["fax.tiff"]
