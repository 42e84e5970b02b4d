"""Outlook .msg files built in memory: a minimal OLE compound file (MS-CFB, version 3) holding
the MAPI property streams Outlook writes (MS-OXMSG), so the tests need no binary fixture.

Streams under 4,096 bytes live in the mini stream (64-byte sectors), larger ones in
regular 512-byte sectors, as the format requires; siblings are chained in the format's
order (name length, then upper case).
"""
from __future__ import annotations

import datetime as dt
import struct

SECTOR, MINI_SECTOR, MINI_CUTOFF = 512, 64, 4096
FREE, END, FAT_SECTOR, NONE = 0xFFFFFFFF, 0xFFFFFFFE, 0xFFFFFFFD, 0xFFFFFFFF


class _Entry:
    def __init__(self, name: str, kind: int, data: bytes = b"") -> None:
        self.name, self.kind, self.data = name, kind, data  # kind: 1 storage, 2 stream, 5 root
        self.children: list[_Entry] = []
        self.left = self.right = self.child = NONE
        self.start, self.size = END, len(data)


def _pad(data: bytes, size: int) -> bytes:
    return data + b"\x00" * (-len(data) % size)


def compound_file(streams: dict[str, bytes]) -> bytes:
    """An OLE compound file with the given streams (paths with « / » between storages)."""
    root = _Entry("Root Entry", 5)
    entries = [root]
    storages = {"": root}
    for path, data in streams.items():
        parts = path.split("/")
        for depth in range(1, len(parts)):
            key = "/".join(parts[:depth])
            if key not in storages:
                storage = _Entry(parts[depth - 1], 1)
                storages["/".join(parts[:depth - 1])].children.append(storage)
                storages[key] = storage
                entries.append(storage)
        stream = _Entry(parts[-1], 2, data)
        storages["/".join(parts[:-1])].children.append(stream)
        entries.append(stream)
    index = {id(entry): number for number, entry in enumerate(entries)}
    for entry in entries:
        ordered = sorted(entry.children, key=lambda e: (len(e.name), e.name.upper()))
        if ordered:
            entry.child = index[id(ordered[0])]
            for before, after in zip(ordered, ordered[1:]):
                before.right = index[id(after)]

    mini = b""
    mini_fat: list[int] = []
    big: list[_Entry] = []
    for entry in entries:
        if entry.kind != 2:
            continue
        if entry.size < MINI_CUTOFF:
            if not entry.size:
                continue
            first = len(mini_fat)
            count = -(-entry.size // MINI_SECTOR)
            mini_fat += list(range(first + 1, first + count)) + [END]
            entry.start = first
            mini += _pad(entry.data, MINI_SECTOR)
        else:
            big.append(entry)

    directory = b""
    root.size = len(mini)
    dir_sectors = -(-len(entries) * 128 // SECTOR)
    mini_fat_sectors = -(-len(mini_fat) * 4 // SECTOR)
    mini_sectors = -(-len(mini) // SECTOR)
    big_sectors = sum(-(-e.size // SECTOR) for e in big)
    fat_sectors = 1
    while fat_sectors * (SECTOR // 4) < (fat_sectors + dir_sectors + mini_fat_sectors
                                         + mini_sectors + big_sectors):
        fat_sectors += 1
    assert fat_sectors <= 109
    fat: list[int] = [FAT_SECTOR] * fat_sectors

    def chain(count: int) -> int:
        first = len(fat)
        fat.extend(list(range(first + 1, first + count)) + [END])
        return first

    first_dir = chain(dir_sectors)
    first_mini_fat = chain(mini_fat_sectors) if mini_fat_sectors else END
    root.start = chain(mini_sectors) if mini_sectors else END
    body = b""
    for entry in big:
        entry.start = chain(-(-entry.size // SECTOR))
        body += _pad(entry.data, SECTOR)
    fat += [FREE] * (fat_sectors * (SECTOR // 4) - len(fat))

    for entry in entries:
        name = entry.name.encode("utf-16-le") + b"\x00\x00"
        directory += struct.pack("<64sHBBIII16sIQQIQ", name, len(name), entry.kind, 1,
                                 entry.left, entry.right, entry.child, b"\x00" * 16, 0, 0, 0,
                                 entry.start if entry.kind != 1 else 0, entry.size)
    empty = struct.pack("<64sHBBIII16sIQQIQ", b"", 0, 0, 0, NONE, NONE, NONE, b"\x00" * 16,
                        0, 0, 0, 0, 0)
    directory += empty * (dir_sectors * 4 - len(entries))

    difat = list(range(fat_sectors)) + [FREE] * (109 - fat_sectors)
    header = struct.pack("<8s16sHHHHH6sIIIIIIIII", b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1",
                         b"\x00" * 16, 0x3E, 3, 0xFFFE, 9, 6, b"\x00" * 6, 0, fat_sectors,
                         first_dir, 0, MINI_CUTOFF, first_mini_fat, mini_fat_sectors, END, 0)
    header += struct.pack("<109I", *difat)
    return (header + struct.pack(f"<{len(fat)}I", *fat) + directory
            + _pad(struct.pack(f"<{len(mini_fat)}I", *mini_fat), SECTOR) * bool(mini_fat)
            + _pad(mini, SECTOR) + body)


def _unicode(value: str) -> bytes:
    return value.encode("utf-16-le") + b"\x00\x00"


def msg_bytes(*, subject: str, sender: str, sender_email: str, to: str, body: str | None,
              html: str | None = None, sent: dt.datetime | None = None,
              attachments: tuple[str | tuple[str, bytes], ...] = (), unicode: bool = True) -> bytes:
    """An Outlook message as Outlook saves it (sending time; Unicode strings, or 8-bit
    Windows-1252 ones as older Outlooks wrote)."""
    kind, text = ("001F", _unicode) if unicode else (
        "001E", lambda value: value.encode("cp1252") + b"\x00")
    streams = {f"__substg1.0_0037{kind}": text(subject),
               f"__substg1.0_0C1A{kind}": text(sender),
               f"__substg1.0_5D01{kind}": text(sender_email),
               f"__substg1.0_0E04{kind}": text(to)}
    if body is not None:
        streams[f"__substg1.0_1000{kind}"] = text(body)
    if html is not None:
        streams["__substg1.0_10130102"] = html.encode("utf-8") + b"\x00"
    properties = struct.pack("<8sIIII8s", b"", 0, len(attachments), 0, len(attachments), b"")
    if sent is not None:
        ticks = int((sent - dt.datetime(1601, 1, 1, tzinfo=dt.timezone.utc)).total_seconds()
                    * 10_000_000)
        properties += struct.pack("<IIQ", (0x0039 << 16) | 0x0040, 2, ticks)
    streams["__properties_version1.0"] = properties
    for number, item in enumerate(attachments):
        # A name alone stands for a file of made-up bytes; (name, bytes) for a real one.
        name, content = item if isinstance(item, tuple) else (item, b"%PDF-1.4 attachment " * 300)
        storage = f"__attach_version1.0_#{number:08X}"
        streams[f"{storage}/__substg1.0_3707001F"] = _unicode(name)
        streams[f"{storage}/__substg1.0_37010102"] = content
    return compound_file(streams)
