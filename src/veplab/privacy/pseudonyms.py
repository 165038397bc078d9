"""Keyed pseudonyms: HMAC-SHA256 of a normalised id, with the key kept apart.

A *pseudonym* replaces a direct identifier (a prison number, a national id
number, a name) by a code that only the holder of a secret key can
reproduce.  Plain hashes are **not** pseudonyms: a prison number or an IIN has
so few possible values that anyone can hash them all and read the table
backwards.  With a keyed hash (HMAC, RFC 2104) nobody without the key can
recompute or reverse the codes, and the same person gets the same code in
every wave and every instrument pseudonymised with the same key, so data can
still be linked (GDPR art. 4(5) and art. 89; Council of Europe Convention 108+
art. 5(4)(e), 10).

Format
------
``prefix + base32(HMAC-SHA256(key, "veplab-pseudonym-v1|" + normalise(id))[:16])``
in lower case without padding: with the default prefix ``"p_"`` that is
``p_`` followed by 26 characters of the alphabet ``a-z2-7`` -- 128 bits of the
keyed digest, e.g. ``p_7kq3v2m5x4c6fz5y2hn2dp4ama``.  :func:`looks_like_pseudonym`
recognises the format (prefix: a lower-case letter, up to 7 further lower-case
letters or digits, then ``_``).

Normalisation
-------------
Before hashing, an id is turned into text, Unicode-NFKC normalised, stripped
of *all* whitespace and case-folded, so ``" 900101 300123"``, ``"900101300123"``
and ``"KZ-P07-0012"`` / ``"kz-p07-0012"`` give one pseudonym each.  Numbers
that are whole (``12.0``) become ``"12"``.  Punctuation is kept (``"1-23"`` and
``"12-3"`` stay distinct).  A warning is given when an id column is numeric:
ids with leading zeros (Kazakh IINs of people born 2000-2009 start with ``0``)
lose them when read as numbers, and the same person would then get a different
pseudonym in a file read as text -- read id columns as text.

The key
-------
32 random bytes in a file of its own (:func:`generate_key`), readable only by
its owner (mode ``0600``) and kept **outside** the project tree, so that it is
never committed, copied into a report folder or shipped with the data
(:func:`read_key` refuses any other key file).  Its fingerprint
(:func:`key_id`) goes into manifests and the audit log, so one can tell which
key made a file without revealing the key.  Whoever holds the key and the
original ids can re-identify everyone: keep it with the data controller, away
from the analysts' copy of the data.

Examples
--------
>>> import pandas as pd
>>> key = bytes(range(32))                         # a real key comes from generate_key
>>> df = pd.DataFrame({"prison_number": ["A-0012", "a-0012 ", "B-0440"]})
>>> out = pseudonymise(df, ["prison_number"], key)
>>> out["prison_number"].nunique()
2
>>> looks_like_pseudonym(out["prison_number"])
True

References
----------
Krawczyk H, Bellare M, Canetti R (1997). RFC 2104: HMAC: Keyed-Hashing for Message
Authentication. IETF.
NIST (2015). FIPS PUB 180-4: Secure Hash Standard (SHS) (SHA-256).
Josefsson S (2006). RFC 4648: The Base16, Base32, and Base64 Data Encodings (section 6). IETF.
ENISA (2019). Pseudonymisation techniques and best practices. European Union Agency for
Cybersecurity.
docs/DESIGN.md, section "Privacy": pseudonyms are keyed HMAC-SHA256 with a key kept
outside the repository; plain hashes of low-entropy ids are not pseudonyms.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import os
import re
import secrets
import stat
import unicodedata
import warnings
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from .._validate import InputError

__all__ = [
    "KEY_BYTES",
    "PSEUDONYM_PATTERN",
    "KeyFileError",
    "generate_key",
    "read_key",
    "key_id",
    "normalise_id",
    "pseudonym",
    "pseudonymise",
    "pseudonymise_file",
    "looks_like_pseudonym",
    "is_pseudonym",
]

#: Length of a pseudonymisation key in bytes (256 bits).
KEY_BYTES: int = 32
#: Bytes of the HMAC digest kept in a pseudonym (128 bits).
DIGEST_BYTES: int = 16
_DOMAIN = b"veplab-pseudonym-v1|"
_KEY_ID_DOMAIN = b"veplab-key-id-v1|"
_PREFIX_RE = re.compile(r"^[a-z][a-z0-9]{0,7}_$")
#: Regular expression of a veplab pseudonym (any allowed prefix; 26 or more
#: base32 characters, i.e. at least 128 bits).
PSEUDONYM_PATTERN: str = r"[a-z][a-z0-9]{0,7}_[a-z2-7]{26,52}"
_PSEUDONYM_RE = re.compile(rf"^{PSEUDONYM_PATTERN}$")


class KeyFileError(InputError):
    """A key file that must not be used (permissions, location, length)."""


# ----------------------------------------------------------------------------- keys


def _project_roots(path: Path, project_root: str | os.PathLike[str] | None) -> list[Path]:
    """Directories that count as 'the project tree' for ``path``.

    ``project_root`` when given, and every ancestor of ``path`` that holds a
    ``.git`` entry or a ``pyproject.toml`` naming the veplab package.
    """
    roots: list[Path] = []
    if project_root is not None:
        roots.append(Path(project_root).resolve())
    for parent in path.parents:
        if (parent / ".git").exists():
            roots.append(parent)
            continue
        pyproject = parent / "pyproject.toml"
        if pyproject.is_file():
            try:
                text = pyproject.read_text(encoding="utf-8", errors="replace")
            except OSError:  # pragma: no cover - unreadable file
                continue
            if re.search(r'^\s*name\s*=\s*["\']veplab["\']', text, flags=re.MULTILINE):
                roots.append(parent)
    return roots


def _refuse_inside_project(path: Path, project_root: str | os.PathLike[str] | None, what: str) -> None:
    resolved = path.resolve()
    for root in _project_roots(resolved, project_root):
        if resolved == root or root in resolved.parents:
            raise KeyFileError(
                f"{what} {str(path)!r} is inside the project tree {str(root)!r}: a key kept there can be "
                "committed, copied into a report or shipped with the data. Keep the key outside the "
                "repository (for example ~/.config/veplab/keys/<study>.key, or a folder only the data "
                "controller can read) and pass that path with --key."
            )


def generate_key(
    path: str | os.PathLike[str],
    *,
    project_root: str | os.PathLike[str] | None = None,
    overwrite: bool = False,
) -> str:
    """Write a new random key (32 bytes from :mod:`secrets`) to ``path``, mode ``0600``.

    The file is created exclusively (an existing key is never replaced unless
    ``overwrite=True`` -- replacing a key breaks linkage with everything
    pseudonymised before), readable and writable by its owner only, and
    refused inside the project tree (see :func:`read_key`).  Missing parent
    folders are created with mode ``0700``.

    Parameters
    ----------
    path:
        Where to write the key: outside the project (for example
        ``~/.config/veplab/keys/<study>.key``).
    project_root:
        A folder the key must not be under, besides any parent holding
        ``.git`` or veplab's ``pyproject.toml``.
    overwrite:
        Replace an existing key file (retires the old key).

    Returns
    -------
    str
        The key's :func:`key_id` (record it in the study's notes).

    Raises
    ------
    KeyFileError
        The path is inside the project tree, or the file exists and
        ``overwrite`` is False.

    References
    ----------
    Krawczyk, Bellare & Canetti (1997), RFC 2104 (HMAC), and NIST (2015), FIPS 180-4 (SHA-256);
    the full list is in the References of :mod:`veplab.privacy.pseudonyms`.
    Python Software Foundation. ``secrets`` -- generate secure random numbers (PEP 506, 2015).

    Examples
    --------
    >>> import os, stat, tempfile
    >>> with tempfile.TemporaryDirectory() as d:
    ...     path = os.path.join(d, "keys", "study.key")
    ...     kid = generate_key(path)
    ...     print(len(kid), oct(stat.S_IMODE(os.stat(path).st_mode)), os.path.getsize(path))
    ...     try:
    ...         generate_key(path)
    ...     except KeyFileError as exc:
    ...         print(str(exc).split(";")[1].strip()[:27])
    16 0o600 32
    refusing to replace it (a n
    """
    p = Path(path).expanduser()
    _refuse_inside_project(p.parent.resolve() / p.name, project_root, "key file")
    if p.exists() and not overwrite:
        raise KeyFileError(
            f"key file {str(p)!r} already exists; refusing to replace it (a new key gives everyone new "
            "pseudonyms and breaks linkage with earlier files). Use another path, or overwrite=True "
            "if you really mean to retire the old key."
        )
    p.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    key = secrets.token_bytes(KEY_BYTES)
    flags = os.O_WRONLY | os.O_CREAT | (os.O_TRUNC if overwrite else os.O_EXCL)
    fd = os.open(p, flags, 0o600)
    try:
        os.fchmod(fd, 0o600)  # the umask may have removed bits, never added: make it exact
        os.write(fd, key)
    finally:
        os.close(fd)
    return key_id(key)


def read_key(
    path: str | os.PathLike[str],
    *,
    project_root: str | os.PathLike[str] | None = None,
) -> bytes:
    """Read a pseudonymisation key, refusing any key file that is not kept apart.

    Refused (:class:`KeyFileError`, a :class:`~veplab._validate.InputError`):

    * a missing file, or something other than a regular file;
    * a file whose permissions give group or others any access (mode wider
      than ``0600``; fix with ``chmod 600 KEYFILE``);
    * a file inside the project tree: under ``project_root`` when given, or
      under any parent folder holding a ``.git`` entry or a ``pyproject.toml``
      of veplab;
    * a file that does not hold exactly 32 bytes.

    Permission checks use POSIX modes; on systems without them (Windows) the
    mode check is skipped with a warning.

    Parameters
    ----------
    path:
        The key file (as written by :func:`generate_key`).
    project_root:
        A folder the key must not be under (besides ``.git``/veplab parents).

    Returns
    -------
    bytes
        The 32-byte key.

    Raises
    ------
    KeyFileError
        For any of the reasons above; the message says how to fix it.

    References
    ----------
    Krawczyk, Bellare & Canetti (1997), RFC 2104 (HMAC), and NIST (2015), FIPS 180-4 (SHA-256);
    the full list is in the References of :mod:`veplab.privacy.pseudonyms`.

    Examples
    --------
    >>> import os, tempfile
    >>> with tempfile.TemporaryDirectory() as d:
    ...     path = os.path.join(d, "study.key")
    ...     kid = generate_key(path)
    ...     print(len(read_key(path)), key_id(read_key(path)) == kid)
    ...     os.chmod(path, 0o644)                  # readable by others: refused
    ...     try:
    ...         read_key(path)
    ...     except KeyFileError as exc:
    ...         print(str(exc).split(": ")[1])
    32 True
    group or others can read or write it. Restrict it to its owner with `chmod 600` and check who may have copied it.
    """
    p = Path(path).expanduser()
    try:
        st = p.stat()
    except FileNotFoundError:
        raise KeyFileError(
            f"key file {str(p)!r} not found; create one with veplab.privacy.generate_key(PATH) "
            "(outside the project folder) or give the path of the study's key"
        ) from None
    if not stat.S_ISREG(st.st_mode):
        raise KeyFileError(f"key file {str(p)!r} is not a regular file")
    if os.name == "posix":
        if st.st_mode & 0o077:
            raise KeyFileError(
                f"key file {str(p)!r} has mode {stat.S_IMODE(st.st_mode):04o}: group or others can read "
                "or write it. Restrict it to its owner with `chmod 600` and check who may have copied it."
            )
    else:  # pragma: no cover - not exercised on POSIX CI
        warnings.warn("key file permissions cannot be checked on this system; keep the key private", stacklevel=2)
    _refuse_inside_project(p, project_root, "key file")
    key = p.read_bytes()
    if len(key) != KEY_BYTES:
        raise KeyFileError(
            f"key file {str(p)!r} holds {len(key)} bytes, expected exactly {KEY_BYTES} (256 bits); "
            "is it the right file? Keys made by generate_key are raw bytes, not text."
        )
    return key


def key_id(key: bytes) -> str:
    """A short, non-reversible fingerprint of ``key``: 16 hex characters.

    ::

        key_id = hex(SHA-256("veplab-key-id-v1|" + key))[:16]

    (64 bits).  The domain prefix keeps the fingerprint unrelated to any other
    use of the key; one cannot recover the key (or any pseudonym) from it.
    Record it in manifests and audit logs to show which key made a file.

    Parameters
    ----------
    key:
        The key (bytes, at least 32).

    Returns
    -------
    str

    Raises
    ------
    InputError
        ``key`` is not bytes or is shorter than 32 bytes.

    References
    ----------
    Krawczyk, Bellare & Canetti (1997), RFC 2104 (HMAC), and NIST (2015), FIPS 180-4 (SHA-256);
    the full list is in the References of :mod:`veplab.privacy.pseudonyms`.

    Examples
    --------
    >>> key_id(bytes(range(32)))               # a fixed demo key; real keys come from generate_key
    '296b9b7d60616909'
    >>> key_id(b"short")
    Traceback (most recent call last):
    ...
    veplab._validate.InputError: key must hold at least 32 bytes, got 5; use generate_key
    """
    _check_key(key)
    return hashlib.sha256(_KEY_ID_DOMAIN + key).hexdigest()[:16]


def _check_key(key: Any) -> bytes:
    if not isinstance(key, (bytes, bytearray)):
        raise InputError(f"key must be bytes (from read_key), got {type(key).__name__}")
    if len(key) < KEY_BYTES:
        raise InputError(f"key must hold at least {KEY_BYTES} bytes, got {len(key)}; use generate_key")
    return bytes(key)


# ------------------------------------------------------------------------ pseudonyms


def normalise_id(value: Any) -> str | None:
    """The normalised text an id is hashed from (``None`` for missing).

    ::

        normalise_id(x) = casefold(remove_whitespace(NFKC(str(x))))

    Whole floats lose ``.0`` (``12.0`` -> ``"12"``), so an id read as a number
    and as text gives one pseudonym; punctuation is kept (``"1-23"`` and
    ``"12-3"`` stay distinct).  ``None``, NaN, ``pd.NA`` and empty strings are
    missing.

    Parameters
    ----------
    value:
        One id value (text, number or bytes in UTF-8).

    Returns
    -------
    str or None

    References
    ----------
    Unicode Consortium. Unicode Standard Annex #15: Unicode Normalization Forms (NFKC).
    Krawczyk H, Bellare M, Canetti R (1997). RFC 2104: HMAC: Keyed-Hashing for Message
    Authentication. IETF.
    NIST (2015). FIPS PUB 180-4: Secure Hash Standard (SHS) (SHA-256).
    Josefsson S (2006). RFC 4648: The Base16, Base32, and Base64 Data Encodings (section 6). IETF.
    ENISA (2019). Pseudonymisation techniques and best practices. European Union Agency for
    Cybersecurity.
    docs/DESIGN.md, section "Privacy": pseudonyms are keyed HMAC-SHA256 with a key kept
    outside the repository; plain hashes of low-entropy ids are not pseudonyms.

    Examples
    --------
    >>> normalise_id(" KZ-P07 0012"), normalise_id(12.0), normalise_id("Ａ-0012")
    ('kz-p070012', '12', 'a-0012')
    >>> normalise_id(""), normalise_id(float("nan"))
    (None, None)
    """
    if value is None or value is pd.NA or value is pd.NaT:
        return None
    if isinstance(value, (float, np.floating)):
        if np.isnan(value):
            return None
        if float(value).is_integer():
            value = int(value)
    if isinstance(value, (bytes, bytearray)):
        value = bytes(value).decode("utf-8", errors="strict")
    text = unicodedata.normalize("NFKC", str(value))
    text = "".join(text.split()).casefold()
    return text or None


def pseudonym(value: Any, key: bytes, *, prefix: str = "p_") -> str | None:
    """The pseudonym of one id value (``None`` when the value is missing).

    ::

        pseudonym = prefix + base32(HMAC-SHA256(key, b"veplab-pseudonym-v1|" + normalise_id(value))[:16])

    in lower case without padding: 26 characters of ``a-z2-7`` (128 bits of
    the keyed digest).  Without the key nobody can compute or reverse it; with
    the same key the same id always gives the same pseudonym.

    Parameters
    ----------
    value:
        The id (see :func:`normalise_id` for what counts as the same id).
    key:
        The study's key (:func:`read_key`), at least 32 bytes.
    prefix:
        A lower-case letter, up to 7 lower-case letters or digits, then ``_``.

    Returns
    -------
    str or None

    Raises
    ------
    InputError
        A key that is not bytes or too short, or a malformed prefix.

    References
    ----------
    Krawczyk, Bellare & Canetti (1997), RFC 2104 (HMAC), and NIST (2015), FIPS 180-4 (SHA-256);
    the full list is in the References of :mod:`veplab.privacy.pseudonyms`.

    Examples
    --------
    >>> key = bytes(range(32))                 # a fixed demo key; real keys come from read_key
    >>> pseudonym("A-0012", key)
    'p_whfx4f6yyfazahmlockmurl27a'
    >>> pseudonym("a-0012 ", key) == pseudonym("A-0012", key)
    True
    >>> pseudonym("A-0012", key, prefix="kz_"), pseudonym(None, key)
    ('kz_whfx4f6yyfazahmlockmurl27a', None)
    """
    key = _check_key(key)
    _check_prefix(prefix)
    text = normalise_id(value)
    if text is None:
        return None
    digest = hmac.new(key, _DOMAIN + text.encode("utf-8"), hashlib.sha256).digest()
    return prefix + base64.b32encode(digest[:DIGEST_BYTES]).decode("ascii").rstrip("=").lower()


def _check_prefix(prefix: str) -> None:
    if not isinstance(prefix, str) or not _PREFIX_RE.match(prefix):
        raise InputError(
            f"prefix must be a lower-case letter, up to 7 lower-case letters or digits and '_' "
            f"(such as 'p_' or 'pr_'), got {prefix!r}"
        )


def pseudonymise(df: pd.DataFrame, columns: Sequence[str] | str, key: bytes, *, prefix: str = "p_") -> pd.DataFrame:
    """Replace the id ``columns`` of ``df`` by keyed pseudonyms (a new frame).

    Each value is normalised (:func:`normalise_id`) and replaced by
    :func:`pseudonym`; missing values stay missing.  Other columns are
    copied unchanged.  The same id gets the same pseudonym in every file
    pseudonymised with the same key (linkage across waves); another key gives
    unrelated pseudonyms.  Values that already look like pseudonyms are
    refused, so nobody pseudonymises twice by mistake.  A numeric id column
    gets a warning (leading zeros are lost when ids are read as numbers).

    Parameters
    ----------
    df:
        The data.
    columns:
        One column name or several.
    key:
        The study's key (:func:`read_key`).
    prefix:
        Pseudonym prefix (default ``"p_"``).

    Returns
    -------
    pandas.DataFrame
        A copy of ``df`` with the id columns pseudonymised (object dtype).

    Raises
    ------
    InputError
        Unknown columns (named), no columns, a column that already holds
        pseudonyms, or a bad key or prefix.

    References
    ----------
    Krawczyk, Bellare & Canetti (1997), RFC 2104 (HMAC), and NIST (2015), FIPS 180-4 (SHA-256);
    the full list is in the References of :mod:`veplab.privacy.pseudonyms`.

    Examples
    --------
    >>> import pandas as pd
    >>> key = bytes(range(32))                 # a fixed demo key; real keys come from read_key
    >>> df = pd.DataFrame({"prison_number": ["A-0012", "a-0012 ", None], "q1": [3, 4, 2]})
    >>> out = pseudonymise(df, "prison_number", key)
    >>> out["prison_number"].tolist(), out["q1"].tolist()
    (['p_whfx4f6yyfazahmlockmurl27a', 'p_whfx4f6yyfazahmlockmurl27a', None], [3, 4, 2])
    >>> pseudonymise(out, "prison_number", key)
    Traceback (most recent call last):
    ...
    veplab._validate.InputError: pseudonymise: column 'prison_number' already holds veplab pseudonyms; pseudonymising twice breaks linkage. Leave it as it is.
    """
    if not isinstance(df, pd.DataFrame):
        raise InputError(f"pseudonymise: expected a pandas DataFrame, got {type(df).__name__}")
    cols = [columns] if isinstance(columns, str) else list(columns)
    if not cols:
        raise InputError("pseudonymise: give at least one column to pseudonymise")
    missing = [c for c in cols if c not in df.columns]
    if missing:
        raise InputError(
            f"pseudonymise: column(s) {missing} not in the data; the columns are {list(map(str, df.columns))}"
        )
    key = _check_key(key)
    _check_prefix(prefix)
    out = df.copy()
    for c in cols:
        col = df[c]
        if pd.api.types.is_numeric_dtype(col.dtype) and not pd.api.types.is_bool_dtype(col.dtype):
            warnings.warn(
                f"pseudonymise: column {c!r} is numeric; ids with leading zeros (such as Kazakh IINs of people "
                "born 2000-2009) lose them when read as numbers, and the same person then gets another "
                "pseudonym in a file read as text. Read id columns as text (dtype=str).",
                stacklevel=2,
            )
        already = col.dropna().astype(str)
        if len(already) and already.map(lambda v: bool(_PSEUDONYM_RE.match(v))).all():
            raise InputError(
                f"pseudonymise: column {c!r} already holds veplab pseudonyms; pseudonymising twice breaks "
                "linkage. Leave it as it is."
            )
        values = col.to_numpy(dtype=object)
        cache: dict[str, str] = {}
        result = np.empty(len(values), dtype=object)
        for i, v in enumerate(values):
            text = normalise_id(v)
            if text is None:
                result[i] = None
                continue
            p = cache.get(text)
            if p is None:
                digest = hmac.new(key, _DOMAIN + text.encode("utf-8"), hashlib.sha256).digest()
                p = prefix + base64.b32encode(digest[:DIGEST_BYTES]).decode("ascii").rstrip("=").lower()
                cache[text] = p
            result[i] = p
        out[c] = pd.Series(result, index=df.index, dtype=object)
    return out


def is_pseudonym(value: Any) -> bool:
    """Whether one value has the veplab pseudonym format.

    The format is :data:`PSEUDONYM_PATTERN`: a prefix (a lower-case letter, up
    to 7 lower-case letters or digits, ``_``) and 26 to 52 characters of the
    base32 alphabet ``a-z2-7`` (at least 128 bits).  Only the shape is checked:
    whether the pseudonym was made with the study's key cannot be told without
    the ids.

    Parameters
    ----------
    value:
        Any value; only strings can be pseudonyms.

    Returns
    -------
    bool

    References
    ----------
    Krawczyk, Bellare & Canetti (1997), RFC 2104 (HMAC), and NIST (2015), FIPS 180-4 (SHA-256);
    the full list is in the References of :mod:`veplab.privacy.pseudonyms`.

    Examples
    --------
    >>> is_pseudonym(pseudonym("A-0012", bytes(range(32))))
    True
    >>> [is_pseudonym(v) for v in ["A-0012", "P_WHFX4F6YYFAZAHMLOCKMURL27A", None]]
    [False, False, False]
    """
    return isinstance(value, str) and bool(_PSEUDONYM_RE.match(value))


def looks_like_pseudonym(values: Iterable[Any] | pd.Series, *, share: float = 1.0) -> bool:
    """Whether (at least ``share`` of) the non-missing ``values`` are veplab pseudonyms.

    ::

        looks_like_pseudonym = mean(is_pseudonym(v) for non-missing v) >= share

    The default ``share=1.0`` demands every non-missing value: a single
    clear-text id among pseudonyms is still a clear-text id.  An empty or
    all-missing column returns ``False`` (nothing shows it is pseudonymised).

    Parameters
    ----------
    values:
        A column (Series) or any iterable of values.
    share:
        The share of non-missing values that must be pseudonyms.

    Returns
    -------
    bool

    References
    ----------
    Krawczyk, Bellare & Canetti (1997), RFC 2104 (HMAC), and NIST (2015), FIPS 180-4 (SHA-256);
    the full list is in the References of :mod:`veplab.privacy.pseudonyms`.

    Examples
    --------
    >>> key = bytes(range(32))                 # a fixed demo key
    >>> ps = [pseudonym("A-0012", key), None, pseudonym("B-0440", key)]
    >>> looks_like_pseudonym(ps), looks_like_pseudonym(ps + ["C-0007"])
    (True, False)
    >>> looks_like_pseudonym(ps + ["C-0007"], share=0.5), looks_like_pseudonym([None])
    (True, False)
    """
    s = values if isinstance(values, pd.Series) else pd.Series(list(values), dtype=object)
    s = s.dropna()
    if len(s) == 0:
        return False
    hits = s.map(is_pseudonym)
    return float(hits.mean()) >= share


# ----------------------------------------------------------------------------- files

_FORMATS = {".csv": "csv", ".txt": "csv", ".tsv": "tsv", ".xlsx": "xlsx", ".xlsm": "xlsx", ".parquet": "parquet", ".pq": "parquet"}


def _file_format(path: Path) -> str:
    fmt = _FORMATS.get(path.suffix.lower())
    if fmt is None:
        raise InputError(
            f"{str(path)!r}: unsupported file type {path.suffix!r}; pseudonymise_file reads and writes "
            "CSV (.csv, .tsv), Excel (.xlsx) and Parquet (.parquet)"
        )
    return fmt


def _sha256_file(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def pseudonymise_file(
    input: str | os.PathLike[str],
    output: str | os.PathLike[str],
    key_path: str | os.PathLike[str],
    columns: Sequence[str] | str,
    *,
    prefix: str = "p_",
    project_root: str | os.PathLike[str] | None = None,
    overwrite: bool = False,
    encoding: str = "utf-8-sig",
    sheet: str | int = 0,
) -> dict[str, Any]:
    """Pseudonymise id ``columns`` of a data file and write a new file of the same format.

    Used by ``veplab pseudonymise INPUT --key KEYFILE --columns a,b --out OUTPUT``.

    * CSV/TSV is read entirely as text (``dtype=str``, no NA conversion
      except empty cells), so other columns are written back exactly as read
      and ids keep their leading zeros; written as UTF-8 (RFC 4180 CSV).
    * XLSX (first sheet, or ``sheet``): id columns are read as text; written
      with openpyxl.  Formatting and other sheets are not kept.
    * Parquet: read and written with pyarrow; id columns become text.

    The key is read with :func:`read_key` (permissions, location and length
    checked).  The output must have the input's format (same suffix), must
    not be the input file, and must not exist unless ``overwrite=True``.

    Parameters
    ----------
    input, output:
        The file to read and the file to write.
    key_path:
        The key file (outside the project).
    columns:
        Id column(s) to pseudonymise.
    prefix, project_root, overwrite, encoding, sheet:
        Pseudonym prefix; a folder the key must not be under; replace an
        existing output; the CSV encoding; the Excel sheet.

    Returns
    -------
    dict
        A summary for the audit log and the CLI: ``input``, ``output``,
        ``input_sha256``, ``output_sha256``, ``rows``, ``columns``, ``key_id``,
        ``distinct`` (pseudonyms per column) and ``missing`` (per column).  No
        data values are returned.

    Raises
    ------
    InputError
        A missing input, an unsupported or mismatched format, the output being
        the input or existing already, unknown columns; :class:`KeyFileError`
        for a key that is not kept apart.

    References
    ----------
    Krawczyk, Bellare & Canetti (1997), RFC 2104 (HMAC), and NIST (2015), FIPS 180-4 (SHA-256);
    the full list is in the References of :mod:`veplab.privacy.pseudonyms`.
    Shafranovich Y (2005). RFC 4180: Common Format and MIME Type for Comma-Separated Values
    (CSV) Files. IETF.

    Examples
    --------
    >>> import os, tempfile
    >>> from pathlib import Path
    >>> with tempfile.TemporaryDirectory() as d:
    ...     key = os.path.join(d, "study.key")
    ...     _ = generate_key(key)
    ...     _ = Path(d, "wave1.csv").write_text("prison_number,q1\\nA-0012,3\\nB-0440,4\\na-0012,2\\n")
    ...     res = pseudonymise_file(Path(d, "wave1.csv"), Path(d, "wave1_p.csv"), key, "prison_number")
    ...     first = Path(d, "wave1_p.csv").read_text().splitlines()[1]
    >>> res["rows"], res["distinct"], res["missing"]
    (3, {'prison_number': 2}, {'prison_number': 0})
    >>> first[:2], len(first.split(",")[0]), first.split(",")[1]
    ('p_', 28, '3')
    """
    src = Path(input)
    dst = Path(output)
    if not src.is_file():
        raise InputError(f"input file {str(src)!r} not found")
    fmt = _file_format(src)
    if _file_format(dst) != fmt:
        raise InputError(
            f"output {str(dst)!r} must have the same format as the input ({src.suffix}); "
            f"give an output name ending in {src.suffix}"
        )
    if dst.exists() and (dst.resolve() == src.resolve() or os.path.samefile(src, dst)):
        raise InputError(
            f"output {str(dst)!r} is the input file; refusing to overwrite the original. "
            "Write the pseudonymised copy elsewhere, check it, then destroy the original as the data "
            "protection plan says."
        )
    if dst.exists() and not overwrite:
        raise InputError(f"output {str(dst)!r} already exists; choose another name or pass overwrite=True")
    cols = [columns] if isinstance(columns, str) else list(columns)
    key = read_key(key_path, project_root=project_root)

    if fmt in ("csv", "tsv"):
        sep = "\t" if fmt == "tsv" else ","
        df = pd.read_csv(src, dtype=str, keep_default_na=False, na_values=[""], encoding=encoding, sep=sep)
    elif fmt == "xlsx":
        head = pd.read_excel(src, sheet_name=sheet, nrows=0)
        df = pd.read_excel(src, sheet_name=sheet, dtype={c: str for c in cols if c in head.columns})
    else:
        df = pd.read_parquet(src)
    missing_cols = [c for c in cols if c not in df.columns]
    if missing_cols:
        raise InputError(
            f"{str(src)!r}: column(s) {missing_cols} not in the file; its columns are {list(map(str, df.columns))}"
        )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # numeric-id warning: xlsx/parquet ids are read as they are stored
        out = pseudonymise(df, cols, key, prefix=prefix)
    dst.parent.mkdir(parents=True, exist_ok=True)
    if fmt in ("csv", "tsv"):
        out.to_csv(dst, index=False, sep="\t" if fmt == "tsv" else ",", encoding="utf-8")
    elif fmt == "xlsx":
        out.to_excel(dst, index=False)
    else:
        for c in cols:
            out[c] = out[c].astype("string")
        out.to_parquet(dst, index=False)
    return {
        "input": str(src),
        "output": str(dst),
        "input_sha256": _sha256_file(src),
        "output_sha256": _sha256_file(dst),
        "rows": int(len(out)),
        "columns": cols,
        "key_id": key_id(key),
        "distinct": {c: int(out[c].nunique(dropna=True)) for c in cols},
        "missing": {c: int(out[c].isna().sum()) for c in cols},
    }
