"""Mail files: .eml (RFC 5322, the standard library's parser) and Outlook .msg (olefile).

A message reads as its headers in French (De, À, Cc, Date, Objet: the subject is the
message's heading), then its text body (HTML bodies stripped to their text), then the
names of its attachments. Its attachments are not part of its text: :func:`attachments`
gives their bytes, and a dossier reads each as a file of its own (one level deep: the
attachments of an attached message are named only).
"""
from __future__ import annotations

import datetime as dt
import email
import email.message
import email.policy
import struct
from contextlib import contextmanager
from html.parser import HTMLParser
from typing import Any, Callable, Iterator

from .budget import Budget
from .errors import DocumentError, encrypted, too_large, unreadable
from .text_reader import Block, blocks_of_text, decode

NOT_EML_MESSAGE = "Ce fichier n'est pas un courriel (.eml) valide."
NOT_MSG_MESSAGE = "Ce fichier n'est pas un message Outlook (.msg) valide."
# A message stream larger than this is not a mail's text (bytes, UTF-16 counts twice).
MAX_STREAM_BYTES = 32 * 1024 * 1024


class _TextOfHtml(HTMLParser):
    """The text of an HTML body: blocks on lines of their own, scripts and styles left out."""

    BLOCKS = {"p", "div", "br", "li", "tr", "table", "h1", "h2", "h3", "h4", "h5", "h6",
              "blockquote", "pre", "hr", "section", "article", "ul", "ol"}
    HIDDEN = {"script", "style", "head", "title", "template"}

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self.hidden = 0

    def handle_starttag(self, tag: str, attrs: list) -> None:  # noqa: ARG002
        if tag in self.HIDDEN:
            self.hidden += 1
        elif tag in self.BLOCKS:
            self.parts.append("\n\n" if tag not in {"br", "td"} else "\n")
        elif tag == "td":
            self.parts.append(" | ")

    def handle_endtag(self, tag: str) -> None:
        if tag in self.HIDDEN:
            self.hidden = max(0, self.hidden - 1)
        elif tag in self.BLOCKS:
            self.parts.append("\n\n")

    def handle_data(self, data: str) -> None:
        if not self.hidden:
            self.parts.append(data)


def html_text(html: str) -> str:
    """Plain text of an HTML mail body, paragraphs separated by blank lines."""
    parser = _TextOfHtml()
    parser.feed(html)
    parser.close()
    lines = [" ".join(line.split()) for line in "".join(parser.parts).split("\n")]
    text = "\n".join(lines)
    while "\n\n\n" in text:
        text = text.replace("\n\n\n", "\n\n")
    return text.strip()


def _message_blocks(headers: list[tuple[str, str]], body: str, attachments: list[str],
                    budget: Budget) -> list[Block]:
    blocks: list[Block] = []
    for label, value in headers:
        value = " ".join((value or "").split())
        if value:
            budget.paragraph()
            kind = "heading" if label == "Objet" else "paragraph"
            blocks.append(Block(f"{label} : {value}", kind))
    blocks += blocks_of_text(body, budget)
    if attachments:
        budget.paragraph()
        blocks.append(Block("Pièces jointes : " + ", ".join(attachments), "paragraph"))
    return blocks


# --- .eml ---

def read_eml(data: bytes, filename: str, *, budget: Budget) -> list[Block]:
    """Blocks of an RFC 5322 message: headers, text body, attachment names."""
    try:
        message = email.message_from_bytes(data, policy=email.policy.default)
        if not any(message.get(name) for name in ("From", "To", "Subject", "Date")):
            raise unreadable(f"{filename}: no From/To/Subject/Date header", NOT_EML_MESSAGE)
        headers = [("De", str(message.get("From", ""))), ("À", str(message.get("To", ""))),
                   ("Cc", str(message.get("Cc", ""))), ("Date", _date(message.get("Date"))),
                   ("Objet", str(message.get("Subject", "")))]
        body = ""
        part = message.get_body(preferencelist=("plain", "html"))
        if part is not None:
            content = _part_text(part, filename)
            body = html_text(content) if part.get_content_subtype() == "html" else content
        attachments = [_eml_name(part) for part in message.iter_attachments()]
    except DocumentError:
        raise
    except Exception as exc:  # the email package raises many kinds on broken structure
        raise unreadable(f"{filename}: {type(exc).__name__}: {exc}", NOT_EML_MESSAGE) from exc
    budget.check()
    return _message_blocks(headers, body, attachments, budget)


def _date(header) -> str:  # noqa: ANN001 - email.headerregistry.DateHeader or None
    """« 07/12/2026 10:00 (UTC+01:00) », as for .msg files; the header as written when it
    is not a date."""
    if header is None:
        return ""
    when = getattr(header, "datetime", None)
    if when is None:
        return str(header)
    offset = when.utcoffset()
    if offset is None:
        return when.strftime("%d/%m/%Y %H:%M")
    zone = when.strftime("%z")
    return when.strftime("%d/%m/%Y %H:%M") + (" (UTC)" if offset.total_seconds() == 0
                                               else f" (UTC{zone[:3]}:{zone[3:]})")


def _part_text(part, filename: str) -> str:  # noqa: ANN001 - email.message.EmailMessage
    """A text part's content; an unknown or lying charset falls back to UTF-8/Windows-1252."""
    try:
        return part.get_content()
    except (LookupError, UnicodeDecodeError):
        return decode(part.get_payload(decode=True) or b"", filename)


# --- .msg (Outlook: MAPI properties in an OLE compound file) ---

PROPERTIES_STREAM = "__properties_version1.0"
SUBJECT, SENDER_NAME, SENDER_SMTP, SENDER_ADDRESS = 0x0037, 0x0C1A, 0x5D01, 0x0C1F
DISPLAY_TO, DISPLAY_CC, BODY, BODY_HTML = 0x0E04, 0x0E03, 0x1000, 0x1013
ATTACH_LONG_FILENAME, ATTACH_FILENAME, ATTACH_DATA = 0x3707, 0x3704, 0x3701
CLIENT_SUBMIT_TIME, DELIVERY_TIME = 0x0039, 0x0E06
PT_SYSTIME = 0x0040
FILETIME_EPOCH = dt.datetime(1601, 1, 1, tzinfo=dt.timezone.utc)
# Top-level message: a 32-byte header before the fixed-size property entries (MS-OXMSG 2.4).
MESSAGE_PROPERTIES_HEADER = 32


def _string_property(ole, storage: str, prop: int, filename: str) -> str:  # noqa: ANN001
    """A string property of a storage (Unicode, 8-bit or binary), '' when absent."""
    # Outlook ends string streams with a null character (two bytes in UTF-16).
    for kind, decoder in (("001F", lambda raw: raw.decode("utf-16-le", "replace")),
                          ("001E", lambda raw: decode(raw.rstrip(b"\x00"), filename)),
                          ("0102", lambda raw: decode(raw.rstrip(b"\x00"), filename))):
        name = f"{storage}__substg1.0_{prop:04X}{kind}"
        if ole.exists(name):
            if ole.get_size(name) > MAX_STREAM_BYTES:
                raise unreadable(f"{filename}: stream {name} too large", NOT_MSG_MESSAGE)
            return decoder(ole.openstream(name).read()).rstrip("\x00")
    return ""


def _sent_at(ole) -> str:  # noqa: ANN001 - olefile.OleFileIO
    """The message's sending (else delivery) time, from its fixed-size properties."""
    if not ole.exists(PROPERTIES_STREAM):
        return ""
    raw = ole.openstream(PROPERTIES_STREAM).read(MAX_STREAM_BYTES)
    found: dict[int, int] = {}
    for offset in range(MESSAGE_PROPERTIES_HEADER, len(raw) - 15, 16):
        tag, _flags, value = struct.unpack_from("<IIQ", raw, offset)
        if tag & 0xFFFF == PT_SYSTIME:
            found[tag >> 16] = value
    value = found.get(CLIENT_SUBMIT_TIME) or found.get(DELIVERY_TIME)
    if not value:
        return ""
    try:
        when = FILETIME_EPOCH + dt.timedelta(microseconds=value // 10)
    except OverflowError:
        return ""
    return when.strftime("%d/%m/%Y %H:%M (UTC)")


def read_msg(data: bytes, filename: str, *, budget: Budget) -> list[Block]:
    """Blocks of an Outlook message: headers, text body (else its HTML body), attachment
    names. A message whose only body is RTF has no text body here."""
    with _opened_msg(data, filename) as (ole, names):
        prop: Callable[[int], str] = lambda number: _string_property(ole, "", number, filename)
        if "EncryptedPackage" in names or "\x06DataSpaces" in names:
            raise encrypted(f"{filename}: protected OLE container")
        if not any(name.startswith("__substg1.0_") for name in names):
            raise unreadable(f"{filename}: no MAPI property streams", NOT_MSG_MESSAGE)
        sender = prop(SENDER_NAME)
        address = prop(SENDER_SMTP) or prop(SENDER_ADDRESS)
        if address and address not in sender:
            sender = f"{sender} <{address}>" if sender else address
        headers = [("De", sender), ("À", prop(DISPLAY_TO)), ("Cc", prop(DISPLAY_CC)),
                   ("Date", _sent_at(ole)), ("Objet", prop(SUBJECT))]
        body = prop(BODY)
        if not body.strip():
            body = html_text(prop(BODY_HTML))
        attachments = [_base_name(_attachment_name(ole, storage, filename))
                       for storage in _attachment_storages(names)]
    budget.check()
    return _message_blocks(headers, body, attachments, budget)


# --- attachments, as files -----------------------------------------------------------------

UNNAMED = "pièce jointe"


def _base_name(name: str) -> str:
    """An attachment's file name without any folder, control characters or « › »."""
    name = name.replace("\\", "/").rsplit("/", 1)[-1]
    name = "".join(c for c in name if ord(c) >= 32 and c != "›").strip()
    return name[:120] or UNNAMED


def _eml_name(part) -> str:  # noqa: ANN001 - email.message.EmailMessage
    """An .eml attachment's name as the mail's text and the dossier show it."""
    if part.get_filename():
        return _base_name(part.get_filename())
    return "message joint.eml" if part.get_content_type() == "message/rfc822" else UNNAMED


def attachments(kind: str, data: bytes, filename: str, *, max_bytes: int,
                budget: Budget) -> list[tuple[str, bytes]]:
    """``(name, bytes)`` of each file attached to a mail (.eml or .msg), in order, their
    total at most ``max_bytes`` (413 past it). An attached Outlook message (not a file but
    a storage inside the .msg) is left out; an attached .eml is a file like any other."""
    found: list[tuple[str, bytes]] = []
    total = 0

    def add(name: str, content: bytes) -> None:
        nonlocal total
        total += len(content)
        if total > max_bytes:
            raise too_large(f"{filename}: attachments over {max_bytes} bytes",
                            "Les pièces jointes de ce courriel sont trop volumineuses.")
        budget.check()
        found.append((_base_name(name), content))

    if kind == "eml":
        try:
            message = email.message_from_bytes(data, policy=email.policy.default)
            for part in message.iter_attachments():
                content = part.get_payload(decode=True)
                if isinstance(content, bytes) and content:
                    add(_eml_name(part), content)
                elif part.get_content_type() == "message/rfc822":
                    inner = part.get_payload()
                    inner = inner[0] if isinstance(inner, list) and inner else inner
                    if isinstance(inner, email.message.Message):
                        add(_eml_name(part), inner.as_bytes())
        except DocumentError:
            raise
        except Exception as exc:  # the email package raises many kinds on broken structure
            raise unreadable(f"{filename}: {type(exc).__name__}: {exc}", NOT_EML_MESSAGE) from exc
        return found
    with _opened_msg(data, filename) as (ole, names):
        for storage in _attachment_storages(names):
            stream = f"{storage}/__substg1.0_{ATTACH_DATA:04X}0102"
            if not ole.exists(stream):
                continue  # an attached message (a storage), or a link
            if ole.get_size(stream) > max_bytes:
                raise too_large(f"{filename}: attachment stream over {max_bytes} bytes",
                                "Les pièces jointes de ce courriel sont trop volumineuses.")
            add(_attachment_name(ole, storage, filename), ole.openstream(stream).read())
    return found


@contextmanager
def _opened_msg(data: bytes, filename: str) -> Iterator[tuple[Any, set[str]]]:
    """An Outlook message's OLE container and the names of its streams and storages; any
    failure of olefile on a damaged container becomes the French « illisible » error."""
    import olefile

    try:
        ole = olefile.OleFileIO(data)
    except Exception as exc:  # olefile raises OSError and others on a damaged container
        raise unreadable(f"{filename}: {type(exc).__name__}: {exc}", NOT_MSG_MESSAGE) from exc
    try:
        yield ole, {"/".join(entry) for entry in ole.listdir(streams=True, storages=True)}
    except DocumentError:
        raise
    except Exception as exc:  # olefile raises many kinds on damaged sectors
        raise unreadable(f"{filename}: {type(exc).__name__}: {exc}", NOT_MSG_MESSAGE) from exc
    finally:
        ole.close()


def _attachment_storages(names: set[str]) -> list[str]:
    return sorted(n for n in names if n.startswith("__attach_version1.0_") and "/" not in n)


def _attachment_name(ole, storage: str, filename: str) -> str:  # noqa: ANN001 - olefile.OleFileIO
    return (_string_property(ole, storage + "/", ATTACH_LONG_FILENAME, filename)
            or _string_property(ole, storage + "/", ATTACH_FILENAME, filename) or UNNAMED)
