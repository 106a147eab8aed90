"""Rows on disk: ``OUT/NAME.json``, written atomically, one writer at a time, resumed safely.

The file is one JSON object::

    {"experiment": NAME, "format": FILE_FORMAT, "config": {...}, "rows": [...]}

``config`` is the run's identity (:meth:`numerics.RunConfig.identity`): every setting that
changes the numbers (quick or full, the seed, the images, the row format), none that does
not (device, progress, where the output goes). ``--resume`` reuses rows only from a file
with the same experiment, format and identity; anything else is refused with one line.

Guarantees:

* **No partial file is ever visible.** Every write goes to a fresh temporary file with a
  unique name in the same folder (``O_CREAT | O_EXCL | O_NOFOLLOW``), is flushed to disk,
  then renamed over ``NAME.json`` with :func:`os.replace` (atomic on POSIX).
* **Runs never mix.** A run holds an exclusive lock (``fcntl.flock``) on ``OUT/.NAME.lock``
  from its start to its end; a second run on the same ``--out`` and experiment is refused
  at once with one line. Different experiments may share a folder (``verify report``).
* **Nothing finished is lost.** Every finished row is on disk before the next one starts;
  rows reused from a resumed file stay in it until the run has reached them again.
"""

from __future__ import annotations

import contextlib
import errno
import os
import secrets
import stat
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from .errors import UsageError, printable, shown
from .strictjson import parse_rows_json, strict_json

try:  # POSIX; elsewhere runs are not locked (documented in the README)
    import fcntl
except ImportError:  # pragma: no cover
    fcntl = None  # type: ignore[assignment]  # the module is absent: runs are not locked

__all__ = [
    "FILE_FORMAT",
    "MAX_ROWS_BYTES",
    "OutFolder",
    "RowStore",
    "RunInterrupted",
    "check_new_file",
    "check_out_folder",
    "check_run_files",
    "folder_lock",
    "load_rows",
    "write_atomic",
]

#: Version of the file layout above (1 was ``{"experiment", "rows"}`` without identity).
FILE_FORMAT = 2
#: Largest rows file ``--resume`` reads (bytes): a full run's file is under 400 kB (64
#: seeds: about 3 MB), and parsing 16 MiB of JSON takes well under a second.
MAX_ROWS_BYTES = 16 * 2**20

Row = dict[str, Any]


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def _write_failed(argument: str, path: Path, exc: OSError) -> UsageError:
    """One line for a write that failed (a full disk, a read-only mount, ``ulimit -f``)."""
    return UsageError(argument, printable(str(path)), f"cannot write ({exc.strerror or exc})")


def write_atomic(path: str | Path, data: bytes | str, argument: str = "--out") -> Path:
    """Write ``data`` (text as UTF-8) to ``path`` through a temporary file and a rename.

    The temporary file is created with ``O_CREAT | O_EXCL | O_NOFOLLOW`` under a fresh
    random name beside ``path`` (it never opens a file or a link already there), flushed to
    disk, then renamed over ``path`` (a link at ``path`` is replaced, never followed). Any
    ``OSError`` becomes one :class:`UsageError` naming ``argument`` and the path; the
    temporary file is removed."""
    path = Path(path)
    raw = data.encode("utf-8") if isinstance(data, str) else data
    flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_NOFOLLOW", 0)
    tmp: Path | None = None
    try:
        for _ in range(100):
            candidate = path.parent / f".{path.name[:100]}.{secrets.token_hex(6)}.tmp"
            try:
                fd = os.open(candidate, flags, 0o666 & ~_umask())
            except FileExistsError:
                continue
            tmp = candidate
            break
        else:  # pragma: no cover - 100 random 48-bit names all taken
            raise FileExistsError(errno.EEXIST, "no free temporary name", str(path))
        with os.fdopen(fd, "wb") as fh:
            fh.write(raw)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except OSError as exc:
        _remove(tmp)
        raise _write_failed(argument, path, exc) from None
    except BaseException:
        _remove(tmp)
        raise
    return path


def _remove(tmp: Path | None) -> None:
    if tmp is not None:
        with contextlib.suppress(OSError):
            tmp.unlink()


class RunInterrupted(KeyboardInterrupt):
    """Ctrl-C during a run: ``kept`` finished rows are in ``path`` (``None`` without --out)."""

    def __init__(self, name: str, kept: int, path: Path | None) -> None:
        self.name = name
        self.kept = kept
        self.path = path
        super().__init__(name, kept, str(path) if path else None)


def _check_path_text(argument: str, text: str) -> Path:
    from .args import check_path_text

    return Path(check_path_text(argument, text))


def _stat(argument: str, path: Path) -> os.stat_result | None:
    try:
        return os.stat(path)
    except (FileNotFoundError, NotADirectoryError) as exc:
        if isinstance(exc, NotADirectoryError):
            raise UsageError(argument, str(path), "a part of the path is not a folder") from None
        return None
    except OSError as exc:
        raise UsageError(argument, str(path), f"cannot use the path ({exc.strerror})") from None


def _writable_folder(argument: str, text: str, folder: Path) -> None:
    """Refuse unless a file can be created in ``folder``: tried for real (created with
    ``O_EXCL | O_NOFOLLOW`` under a fresh name and removed at once), since permissions
    do not tell a read-only mount, ``/proc`` or an immutable folder."""
    where = "" if str(folder) == text else f" ({printable(str(folder))})"
    if not os.access(folder, os.W_OK | os.X_OK):
        raise UsageError(argument, text, f"folder{where} is not writable")
    probe = folder / f".verify-probe.{secrets.token_hex(6)}"
    flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_NOFOLLOW", 0)
    try:
        os.close(os.open(probe, flags, 0o600))
    except OSError as exc:
        raise UsageError(
            argument, text, f"cannot create files in folder{where} ({exc.strerror})"
        ) from None
    _remove(probe)


def check_out_folder(
    text: str | os.PathLike[str], argument: str = "--out", *, create: bool = True
) -> Path:
    """Validate the output folder ``text``: not empty, not a file, writable; created with
    its missing parents when ``create`` (without it nothing on disk changes: the nearest
    existing folder above it must be writable, so that creating it later succeeds)."""
    path = _check_path_text(argument, os.fspath(text))
    shown_text = os.fspath(text)
    st = _stat(argument, path)
    if st is None:
        above = path.absolute().parent
        while not os.path.lexists(above) and above != above.parent:
            above = above.parent
        st_above = _stat(argument, above)
        if st_above is None or not stat.S_ISDIR(st_above.st_mode):
            raise UsageError(argument, shown_text, "a part of the path is not a folder")
        _writable_folder(argument, shown_text, above)
        if not create:
            return path
        try:
            path.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise UsageError(
                argument, shown_text, f"cannot create the folder ({exc.strerror})"
            ) from None
        st = os.stat(path)
    if not stat.S_ISDIR(st.st_mode):
        raise UsageError(argument, shown_text, "exists and is not a folder")
    _writable_folder(argument, shown_text, path)
    return path


def check_new_file(argument: str, text: str) -> Path:
    """Validate a file the program will write (a picture, a page): the text of the path,
    no folder, FIFO or device at it, and an existing writable folder around it. Nothing on
    disk changes."""
    path = _check_path_text(argument, text)
    if text.endswith("/"):
        raise UsageError(argument, text, "is a folder name, not a file name")
    try:
        st = os.lstat(path)
    except (FileNotFoundError, NotADirectoryError):
        st = None
    except OSError as exc:
        raise UsageError(argument, text, f"cannot use the path ({exc.strerror})") from None
    if st is not None and not (stat.S_ISREG(st.st_mode) or stat.S_ISLNK(st.st_mode)):
        raise UsageError(argument, text, "exists and is not a regular file")
    parent = path.parent
    st_parent = _stat(argument, parent)
    if st_parent is None or not stat.S_ISDIR(st_parent.st_mode):
        raise UsageError(argument, text, f"folder {shown(str(parent))} does not exist")
    _writable_folder(argument, text, parent)
    return path


def check_run_files(out: str | os.PathLike[str], name: str, *, resume: bool = False) -> None:
    """Before a run of experiment ``name`` into ``out``: nothing but a regular file (or a
    link, which is replaced, never followed) sits where its files go (``NAME.json``,
    ``NAME_*.png``, ``NAME_*.npz``, ``.NAME.lock``), so a folder or a FIFO at one of those
    names is refused now, not after the training."""
    try:
        entries = list(os.scandir(out))
    except FileNotFoundError:
        return
    except OSError as exc:
        raise UsageError("--out", str(out), f"cannot list the folder ({exc.strerror})") from None
    for entry in entries:
        ours = entry.name in (f"{name}.json", f".{name}.lock") or entry.name.startswith(
            (f"{name}_", f"{name}-", f"{name}.")
        )
        if ours and not (entry.is_file(follow_symlinks=False) or entry.is_symlink()):
            if resume and entry.name == f"{name}.json":
                raise UsageError("--resume", entry.path, "is not a regular file, not a rows file")
            raise UsageError(
                "--out",
                str(out),
                f"{printable(entry.name)} there is not a regular file (the run writes that name)",
            )


def _read_capped(path: Path, argument: str) -> bytes:
    """The bytes of a regular file of at most :data:`MAX_ROWS_BYTES`, opened without
    following a link and without blocking (a folder, a FIFO, a device or a link is refused,
    never read)."""
    flags = os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_NONBLOCK", 0)
    try:
        fd = os.open(path, flags)
    except OSError as exc:
        if exc.errno == errno.ELOOP:
            raise UsageError(argument, str(path), "is a link, not a rows file") from None
        if exc.errno == errno.EISDIR:
            raise UsageError(argument, str(path), "is a folder, not a rows file") from None
        raise UsageError(argument, str(path), f"cannot read ({exc.strerror})") from None
    with os.fdopen(fd, "rb") as fh:
        st = os.fstat(fh.fileno())
        if stat.S_ISDIR(st.st_mode):
            raise UsageError(argument, str(path), "is a folder, not a rows file")
        if not stat.S_ISREG(st.st_mode):
            raise UsageError(argument, str(path), "is not a regular file")
        if st.st_size > MAX_ROWS_BYTES:
            raise UsageError(
                argument, str(path), f"{st.st_size} bytes, more than a rows file ({MAX_ROWS_BYTES})"
            )
        try:
            return fh.read(MAX_ROWS_BYTES + 1)
        except OSError as exc:
            raise UsageError(argument, str(path), f"cannot read ({exc.strerror})") from None


def _name(key: str) -> str:
    return key if len(key) <= 40 and key.isprintable() else shown(key)


def _differences(want: dict[str, Any], have: Any) -> str:
    if not isinstance(have, dict):
        return "no configuration recorded"
    keys = sorted(set(want) | set(have), key=str)
    parts = [
        f"{_name(k)}: {shown(have.get(k, '(absent)'))} there, {shown(want.get(k, '(absent)'))} now"
        for k in keys
        if want.get(k) != have.get(k)
    ]
    return "; ".join(parts[:3]) + (f"; and {len(parts) - 3} more" if len(parts) > 3 else "")


def load_rows(path: Path, name: str, identity: dict[str, Any]) -> dict[str, Row]:
    """The finished rows of a previous run in ``path``, by key, for ``--resume``.

    Refused (:class:`UsageError`, argument ``--resume``) unless ``path`` is a regular file
    holding UTF-8 JSON ``{"experiment": name, "format": FILE_FORMAT, "config": identity,
    "rows": [{"key": str, ...}, ...]}``: truncated, damaged or foreign files, another
    experiment's rows and another configuration's rows are never mixed in.
    """
    arg = "--resume"
    obj = parse_rows_json(_read_capped(path, arg), path, arg)
    if not isinstance(obj, dict):
        raise UsageError(
            arg, str(path), f"not a rows file (a JSON {type(obj).__name__}, not an object)"
        )
    if obj.get("experiment") != name:
        raise UsageError(
            arg, str(path), f"holds rows of experiment {shown(obj.get('experiment'))}, not {name!r}"
        )
    if obj.get("format") != FILE_FORMAT:
        raise UsageError(
            arg,
            str(path),
            f"file format {shown(obj.get('format'))}, this toolkit writes {FILE_FORMAT} "
            "(no recorded configuration to check): rerun without --resume or use another --out",
        )
    if obj.get("config") != identity:
        raise UsageError(
            arg,
            str(path),
            "rows of another configuration ("
            + _differences(identity, obj.get("config"))
            + "); rerun without --resume or use another --out",
        )
    rows = obj.get("rows")
    if not isinstance(rows, list):
        raise UsageError(arg, str(path), f"'rows' is a {type(rows).__name__}, not a list")
    done: dict[str, Row] = {}
    for i, row in enumerate(rows):
        if not isinstance(row, dict) or not isinstance(row.get("key"), str):
            raise UsageError(arg, str(path), f"row {i} is not an object with a string 'key'")
        if row["key"] in done:
            raise UsageError(arg, str(path), f"row key {shown(row['key'])} appears twice")
        done[row["key"]] = row
    return done


@contextmanager
def folder_lock(
    out: str | os.PathLike[str], folder: Path, name: str, *, what: str
) -> Iterator[None]:
    """Hold ``folder/.NAME.lock`` exclusively (``fcntl.flock``) for the block; if another
    process holds it, refuse at once with one line naming ``--out`` (never wait, never mix).
    The lock file stays (removing it would race with the next writer); the lock goes with
    the process, so a killed run never leaves the folder locked."""
    lock_path = folder / f".{name}.lock"
    try:
        # never through a link: a link planted at the lock's name is refused, not followed
        fd = os.open(lock_path, os.O_RDWR | os.O_CREAT | os.O_NOFOLLOW, 0o644)
    except OSError as exc:
        raise UsageError("--out", str(out), f"cannot create a lock file ({exc.strerror})") from None
    try:
        if fcntl is not None:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except OSError as exc:
                if exc.errno not in (errno.EAGAIN, errno.EACCES, errno.EWOULDBLOCK):
                    raise
                raise UsageError(
                    "--out",
                    str(out),
                    f"another run is writing {what} there (lock {lock_path.name}); "
                    "wait for it or use another --out",
                ) from None
        yield
    finally:
        os.close(fd)  # releases the lock


class RowStore:
    """``OUT/NAME.json`` of one run: lock held, previous rows loaded, every write atomic.

    Use :meth:`open` as a context manager; :meth:`write` after each finished row.
    """

    def __init__(self, out: Path, name: str, identity: dict[str, Any]) -> None:
        self.out = out
        self.name = name
        self.identity = identity
        self.path = out / f"{name}.json"
        self.lock_path = out / f".{name}.lock"
        self.done: dict[str, Row] = {}
        self.written = 0

    @classmethod
    @contextmanager
    def open(
        cls, out: str | os.PathLike[str], name: str, identity: dict[str, Any], *, resume: bool
    ) -> Iterator[RowStore]:
        folder = check_out_folder(out, "--out")
        store = cls(folder, name, identity)
        with folder_lock(out, folder, name, what=f"{store.path.name}"):
            if resume and os.path.lexists(store.path):
                store.done = load_rows(store.path, name, identity)
            yield store

    def write(self, rows: list[Row], **extra: Any) -> None:
        """Write ``rows`` (then any resumed rows not reached yet) atomically; ``extra``
        fields (an experiment's verdict) go beside them."""
        seen = {r["key"] for r in rows}
        pending = [r for k, r in self.done.items() if k not in seen]
        obj = {
            "experiment": self.name,
            "format": FILE_FORMAT,
            "config": self.identity,
            "rows": rows + pending,
            **extra,
        }
        write_atomic(self.path, strict_json(obj))
        self.written = len(rows) + len(pending)


#: Largest file a run reads back from its folder (a row's arrays): well above any it writes.
MAX_READ_BYTES = 64 * 2**20


class OutFolder:
    """A run's output folder as :class:`numerics.Output`: files are plain names inside it,
    written atomically; reads are confined to it, refuse links, FIFOs and devices (they are
    never opened) and are capped at :data:`MAX_READ_BYTES`."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder

    def __truediv__(self, name: str) -> Path:
        return self.folder / self._plain(name)

    @staticmethod
    def _plain(name: str) -> str:
        if not name or "/" in name or "\x00" in name or name in (".", ".."):
            raise UsageError("--out", name, "a file name inside the output folder is expected")
        return name

    def write(self, name: str, data: bytes) -> Path:
        self.folder.mkdir(parents=True, exist_ok=True)
        return write_atomic(self / name, data)

    def read(self, name: str) -> bytes | None:
        try:
            path = self / name
        except UsageError:
            return None  # a name that points outside the folder is not the run's file
        try:
            fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK)
        except OSError:
            return None
        with os.fdopen(fd, "rb") as fh:
            st = os.fstat(fh.fileno())
            if not stat.S_ISREG(st.st_mode) or st.st_size > MAX_READ_BYTES:
                return None
            return fh.read(MAX_READ_BYTES + 1)
