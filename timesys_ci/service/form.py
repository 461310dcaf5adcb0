"""Form-style parameters (POST bodies and query strings), read in two steps.

`scan_form` finds the fields of a raw body with bounded work: it counts and
locates them, decodes only their (short) names, and never copies or decodes a
value. Authentication then streams the values it signs (`iter_value`, bounded
chunks) and the handler gets the fully decoded parameters (`RawForm.decode`)
only once the signature is known to be good — so an unsigned or badly signed
request of tens of megabytes costs one pass at C speed and little memory.

Percent-decoding always runs in C (`binascii.a2b_qp`), whatever the input:
the result equals `urllib.parse.parse_qsl(..., keep_blank_values=True)`
grouped by name (vigiles-api.md 2.6 step 2).
"""
from __future__ import annotations

import binascii
import codecs
import re
from collections.abc import Iterator
from dataclasses import dataclass, field

from timesys_ci.service.errors import ServiceError

MAX_FIELDS = 100_000
MAX_NAME_BYTES = 256  # an encoded parameter name; the API's longest is under 40
CHUNK = 1 << 20  # bytes of encoded value decoded at a time while streaming

# `%` not followed by two hex digits: a literal percent sign for parse_qsl.
_STRAY_PERCENT = re.compile(rb"%(?![0-9A-Fa-f]{2})")
# For the quick test that there is none: hex digits -> "h", "%" stays, anything else -> "x".
_HEX_SHAPE = bytes(ord("%") if byte == ord("%") else ord("h") if chr(byte) in "0123456789abcdefABCDEF" else ord("x")
                   for byte in range(256))


def unquote_plus(raw: bytes) -> bytes:
    """Form decoding of one name or value: `+` is a space, `%XX` a byte, anything else itself.

    `%XX` becomes quoted-printable `=XX` for `binascii.a2b_qp`; the bytes that
    quoted-printable reads specially (`=` and a stray `%`) are escaped to `=3D`
    and `=25` first, so no input falls back to a slow path.
    """
    data = raw.replace(b"+", b" ")
    if b"%" not in data:
        return data
    if b"=" in data:
        data = data.replace(b"=", b"=3D")
    shape = data.translate(_HEX_SHAPE)
    if shape.count(b"%") != shape.count(b"%hh"):  # some '%' is not an escape (rare: the regex is slower)
        data = _STRAY_PERCENT.sub(b"=25", data)
    return binascii.a2b_qp(data.replace(b"%", b"="))


def _malformed(what: str, exc: UnicodeDecodeError) -> ServiceError:
    return ServiceError(400, f"malformed {what}: not UTF-8 after decoding ({exc.reason} at byte {exc.start})")


@dataclass
class RawForm:
    """A body or query string with the positions of its fields: name -> [(start, end) of each value]."""

    raw: bytes
    what: str
    fields: dict[str, list[tuple[int, int]]] = field(default_factory=dict)

    def value_size(self, name: str) -> int:
        return sum(end - start for start, end in self.fields.get(name, ()))

    def value(self, name: str, index: int = 0) -> str:
        """One value, fully decoded (for small ones: the email)."""
        start, end = self.fields[name][index]
        try:
            return unquote_plus(self.raw[start:end]).decode("utf-8")
        except UnicodeDecodeError as exc:
            raise _malformed(self.what, exc) from None

    def iter_value(self, start: int, end: int) -> Iterator[bytes]:
        """The decoded bytes of the value at raw[start:end], in bounded chunks, checked to be UTF-8."""
        checker = codecs.getincrementaldecoder("utf-8")()
        position = start
        try:
            while position < end:
                stop = min(position + CHUNK, end)
                if stop < end:  # never split a %XX escape between two chunks
                    cut = self.raw.rfind(b"%", stop - 2, stop)
                    if cut > position:
                        stop = cut
                chunk = unquote_plus(self.raw[position:stop])
                checker.decode(chunk)
                yield chunk
                position = stop
            checker.decode(b"", final=True)
        except UnicodeDecodeError as exc:
            raise _malformed(self.what, exc) from None

    def decode(self) -> dict[str, list[str]]:
        """Every parameter, decoded: name -> values in the order sent, blank values kept."""
        params: dict[str, list[str]] = {}
        try:
            for name, spans in self.fields.items():
                params[name] = [unquote_plus(self.raw[start:end]).decode("utf-8") for start, end in spans]
        except UnicodeDecodeError as exc:
            raise _malformed(self.what, exc) from None
        return params


def scan_form(raw: bytes, what: str) -> RawForm:
    """Locate the fields of `raw` without decoding or copying any value (bounded work, any input)."""
    if raw.count(b"&") >= MAX_FIELDS:  # counted before splitting: a body of '&' must not become a huge list
        raise ServiceError(400, f"malformed {what}: more than {MAX_FIELDS} fields")
    form = RawForm(raw, what)
    size = len(raw)
    position = 0
    try:
        while position < size:
            amp = raw.find(b"&", position)
            if amp < 0:
                amp = size
            if amp > position:
                equals = raw.find(b"=", position, amp)
                name_end, value_start = (equals, equals + 1) if equals >= 0 else (amp, amp)
                if name_end - position > MAX_NAME_BYTES:
                    raise ServiceError(400, f"malformed {what}: a parameter name is longer than {MAX_NAME_BYTES} bytes")
                name = unquote_plus(raw[position:name_end]).decode("utf-8")
                form.fields.setdefault(name, []).append((value_start, amp))
            position = amp + 1
    except UnicodeDecodeError as exc:
        raise _malformed(what, exc) from None
    return form


def decode_params(raw: bytes, what: str) -> dict[str, list[str]]:
    """Every parameter of a body or query string (scan, then decode)."""
    return scan_form(raw, what).decode()
