"""multipart/form-data read the way Jira DC reads an attachment upload.

Jira's POST /rest/api/2/issue/{key}/attachments takes its parts through atlassian-rest's
CommonsFileUploadMultipartHandler, i.e. Apache commons-fileupload (MultipartStream,
FileUploadBase, ParameterParser), and names each file with atlassian-rest's
CommonsFileUploadFilePart.getName(): ``new File(MimeUtility.decodeText(name)).getName()``.
What follows mirrors that, with the standard library only:

- the boundary comes from the request's Content-Type (``boundary=...``, quoted or not);
- the body is: a preamble, ``--boundary``, then parts separated by ``CRLF--boundary``; after a
  boundary ``--`` ends the body (an epilogue is ignored) and ``CRLF`` starts the next part;
  anything else, or a body that ends before the closing boundary, is malformed
  (commons-fileupload: MalformedStreamException "Stream ended unexpectedly");
- a part's header block ends at the first CRLF CRLF; header lines are split on CRLF only (a
  bare LF stays inside a value), a line that starts with a space or a tab continues the one
  before; names are case-insensitive; the block is decoded as UTF-8 (Jira's JVM default; bad
  bytes become U+FFFD);
- Content-Disposition parameters as ParameterParser reads them: ``name=value`` pairs split at
  ``;`` outside double quotes, a value loses surrounding white space and one pair of
  surrounding quotes (FileUploadBase then trims the file name), and nothing else: a backslash inside quotes only keeps the next ``"``
  from closing the value and is kept (``filename="a\\"b"`` names the file ``a\\"b``); RFC 2231
  ``filename*=`` is not a name commons-fileupload knows (ignored); later duplicates win;
- the file name is RFC 2047-decoded (``=?UTF-8?B?...?=``; an unknown charset is an error: 400
  "The encoding of file name '...' is invalid according to RFC 2047", atlassian-rest's
  UnsupportedFileNameEncodingException; a malformed encoded word stays as it is) and cut to
  what follows its last ``/`` (java.io.File on Linux: ``../x`` -> ``x``, ``a/b/`` -> ``b``;
  a backslash is an ordinary character).

Part contents are memoryviews into the request body (no copy).
"""

import base64
import binascii
import codecs
import re


class MultipartError(ValueError):
    """A body commons-fileupload cannot read (Jira answers 500)."""


class FileNameEncodingError(ValueError):
    """A file name whose RFC 2047 encoding names an unknown charset (Jira answers 400)."""

    def __init__(self, raw):
        super().__init__(raw)
        self.raw = raw


class PartTooLarge(Exception):
    def __init__(self, field, limit):
        super().__init__(field, limit)
        self.field, self.limit = field, limit


class Part:
    __slots__ = ("headers", "name", "raw_filename", "filename", "content_type", "data")

    def __init__(self, headers, data):
        self.headers = headers
        self.data = data
        self.content_type = headers.get("content-type")
        cd = headers.get("content-disposition") or ""
        params = disposition_params(cd) if cd.lower().startswith(("form-data", "attachment")) \
            else {}
        self.name = params.get("name")
        # FileUploadBase.getFileName: absent -> a form field (None); present -> trimmed
        self.raw_filename = None
        if "filename" in params:
            self.raw_filename = java_trim(params["filename"] or "")
        self.filename = None if self.raw_filename is None else java_file_name(
            decode_rfc2047(self.raw_filename, strict=True))

    @property
    def size(self):
        return len(self.data)

    def summary(self):
        return {"name": self.name, "filename": self.filename,
                "contentType": self.content_type, "size": len(self.data)}


def boundary_of(content_type):
    """The boundary parameter of a multipart Content-Type, or None."""
    if not content_type:
        return None
    params = disposition_params(content_type)
    b = params.get("boundary")
    return b or None


def _token(s, quoted):
    # ParameterParser.getToken: trim white space, then drop one pair of surrounding quotes
    s = s.strip(" \t\r\n")
    if quoted and len(s) >= 2 and s[0] == '"' and s[-1] == '"':
        s = s[1:-1]
    return s if s else None


def disposition_params(value, sep=";"):
    """ParameterParser.parse(value, ';') with lower-cased names -> {name: value or None}."""
    out = {}
    i, n = 0, len(value)
    while i < n:
        j = i
        while j < n and value[j] not in ("=", sep):
            j += 1
        name = _token(value[i:j], False)
        i = j
        val = None
        if i < n and value[i] == "=":
            i += 1
            j = i
            quoted = escaped = False
            while j < n:
                c = value[j]
                if not quoted and c == sep:
                    break
                if not escaped and c == '"':
                    quoted = not quoted
                escaped = not escaped and c == "\\"
                j += 1
            val = _token(value[i:j], True)
            i = j
            if val is not None:
                val = decode_rfc2047(val, strict=False)
        if i < n and value[i] == sep:
            i += 1
        if name:
            out[name.lower()] = val
    return out


_WORD = re.compile(r"=\?([^?\s]+)\?([bBqQ])\?([^?\s]*)\?=")
_BETWEEN_WORDS = re.compile(r"(\?=)[ \t\r\n]+(?==\?[^?\s]+\?[bBqQ]\?)")


def decode_rfc2047(text, strict=True):
    """commons-fileupload MimeUtility.decodeText: encoded words decoded, white space between
    two encoded words dropped; a malformed word stays as written; an unknown charset raises
    FileNameEncodingError (strict) or leaves the text as it is."""
    if "=?" not in text:
        return text
    src = _BETWEEN_WORDS.sub(r"\1", text)

    def word(m):
        charset, enc, data = m.group(1), m.group(2).upper(), m.group(3)
        charset = charset.split("*", 1)[0]       # RFC 2231 language suffix
        try:
            codecs.lookup(charset)
        except LookupError:
            raise FileNameEncodingError(text)
        try:
            if enc == "B":
                raw = base64.b64decode(data + "=" * (-len(data) % 4), validate=True)
            else:
                raw = re.sub(rb"=([0-9A-Fa-f]{2})", lambda x: bytes([int(x.group(1), 16)]),
                             data.replace("_", " ").encode("latin-1"))
            return raw.decode(charset, "replace")
        except (binascii.Error, ValueError, UnicodeEncodeError):
            return m.group(0)
    try:
        return _WORD.sub(word, src)
    except FileNameEncodingError:
        if strict:
            raise
        return text


def java_trim(s):
    """java.lang.String.trim(): drops leading and trailing characters up to U+0020."""
    i, j = 0, len(s)
    while i < j and s[i] <= " ":
        i += 1
    while j > i and s[j - 1] <= " ":
        j -= 1
    return s[i:j]


def java_file_name(name):
    """``new java.io.File(name).getName()`` on Linux: what follows the last '/' once repeated
    and trailing slashes are dropped."""
    name = re.sub(r"/+", "/", name)
    if len(name) > 1:
        name = name.rstrip("/")
    return name.rsplit("/", 1)[-1] if name != "/" else ""


HEADER_MAX = 10240   # commons-fileupload MultipartStream.HEADER_PART_SIZE_MAX


def parse(body, boundary, file_size_max=None):
    """-> [Part]; MultipartError when malformed, PartTooLarge when a part is above
    file_size_max (FileUploadBase applies the limit to every item: "The field <name> exceeds
    its maximum permitted size of <limit> bytes.")."""
    mv = memoryview(body)
    delim = b"--" + boundary.encode("latin-1", "replace")
    pos = body.find(delim)
    if pos < 0:
        raise MultipartError("Stream ended unexpectedly")
    pos += len(delim)
    parts = []
    while True:
        tail = bytes(mv[pos:pos + 2])
        if tail == b"--":
            return parts
        if tail != b"\r\n":
            raise MultipartError("Unexpected characters follow a boundary")
        pos += 2
        if bytes(mv[pos:pos + 2]) == b"\r\n":      # a part without headers
            hend, block = pos, b""
            pos += 2
        else:
            hend = body.find(b"\r\n\r\n", pos, pos + HEADER_MAX + 4)
            if hend < 0:
                if body.find(b"\r\n\r\n", pos) < 0:
                    raise MultipartError("Stream ended unexpectedly")
                raise MultipartError("Header section has more than %d bytes (maybe it is not "
                                     "properly terminated)" % HEADER_MAX)
            block = bytes(mv[pos:hend])
            pos = hend + 4
        end = body.find(b"\r\n" + delim, pos)
        if end < 0:
            raise MultipartError("Stream ended unexpectedly")
        part = Part(parse_headers(block), mv[pos:end])
        if file_size_max is not None and part.size > file_size_max:
            raise PartTooLarge(part.name, file_size_max)
        parts.append(part)
        pos = end + 2 + len(delim)


def parse_headers(block):
    text = block.decode("utf-8", "replace")
    headers = {}
    last = None
    for line in text.split("\r\n"):
        if not line:
            continue
        if line[0] in " \t" and last is not None:
            headers[last] += " " + line.strip(" \t")
            continue
        name, sep, value = line.partition(":")
        if not sep:
            continue
        last = name.strip().lower()
        headers[last] = value.strip(" \t")
    return headers


def summarize(body, content_type):
    """What the request log keeps of a multipart body: the parts without their bytes."""
    out = {"multipart": [], "bytes": len(body)}
    b = boundary_of(content_type)
    try:
        if b is None:
            raise MultipartError("no boundary")
        out["multipart"] = [p.summary() for p in parse(body, b)]
    except (MultipartError, FileNameEncodingError):
        out["malformed"] = True
    return out

