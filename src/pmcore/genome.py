"""Genome store: FASTA / gzip FASTA / 2bit -> one memory-mappable ``.pmg`` file.

Layout of a ``.pmg`` file (little-endian)::

    [0, 4096)        header: magic, format version, section offsets, checksums
    blocks           uint64[n_blocks, 3]: for 64 bases, the high bit, the low bit and the
                     non-ACGT bit of each base (A=00 C=01 G=10 T=11; bit t = base 64*b+t)
    soft             uint64[n_blocks]: lowercase (soft-masked) bit of each base
    iupac            int64 positions + uint8 letters of IUPAC codes other than N
    contigs          JSON: name, header text, length, first block of each contig

Block 0 and the last two blocks are padding (every base non-ACGT) and every contig starts on a
block boundary, so a 64-base window read at any position inside a contig stays inside
the array, and bases past a contig's end never match anything.

Indexing streams: sequence arrives in pieces of a few MB, is packed by the Cython kernel
and written out; memory stays at a few tens of MB plus the soft-mask plane (1 bit/base).
"""

from __future__ import annotations

import json
import mmap
import os
import struct
import tempfile
import zlib
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from . import kernels
from .errors import InputError, StoreError

if kernels.IMPLEMENTATION == "cython":
    from ._kernels import pack as _pack
else:  # pragma: no cover - exercised with PMCORE_IMPLEMENTATION=python
    from ._kernels import pack_py as _pack

MAGIC = b"PMCGENOM"
_TWOBIT_MAGICS = (b"\x43\x27\x41\x1a", b"\x1a\x41\x27\x43")
FORMAT_VERSION = 1
HEADER_SIZE = 4096
_HEADER = struct.Struct("<8sIIQQQQQQQQQIII")
PIECE_BASES = 1 << 23  # bases packed per kernel call while indexing
_ALL_ONES = np.uint64(0xFFFFFFFFFFFFFFFF)

# IUPAC letters other than A/C/G/T/U/N, kept exactly so reports show the genome's letter.
_IUPAC_LUT = np.zeros(256, dtype=bool)
for _c in b"RYSWKMBDHVryswkmbdhv":
    _IUPAC_LUT[_c] = True


@dataclass(frozen=True)
class Contig:
    name: str
    description: str
    length: int
    block: int  # first block; global position of base x is block * 64 + x

    @property
    def offset(self) -> int:
        return self.block * 64


# --------------------------------------------------------------------------- readers
def _open_binary(path):
    path = str(path)
    with open(path, "rb") as probe:
        magic = probe.read(4)
    if magic[:2] == b"\x1f\x8b":
        import gzip

        return gzip.open(path, "rb")
    return open(path, "rb")


def sniff_format(path) -> str:
    """'pmg', '2bit' or 'fasta' from the file's first bytes."""
    try:
        with open(path, "rb") as handle:
            head = handle.read(8)
    except FileNotFoundError:
        raise InputError("file not found", path=path) from None
    except IsADirectoryError:
        raise InputError("is a directory, expected a genome file", path=path) from None
    if head.startswith(MAGIC):
        return "pmg"
    if head[:4] in _TWOBIT_MAGICS:
        return "2bit"
    return "fasta"


def read_fasta(path, piece: int = PIECE_BASES):
    """Stream a (gzip) FASTA file as events.

    Yields ``("contig", name, description, line)`` when a record starts and
    ``("seq", bytes, first_line)`` for pieces of its sequence with line breaks and
    blanks removed. Any line length, CRLF, lowercase and IUPAC letters are accepted;
    checking letters is left to the packer (which reports the offending line).
    """
    handle = _open_binary(path)
    line = 1  # line number of the first byte of ``pending``
    in_record = False
    pending = b""
    strip = b"\r\n \t"
    try:
        while True:
            block = handle.read(piece)
            data = pending + block
            if block:
                cut = data.rfind(b"\n") + 1
                if cut == 0:
                    pending = data
                    continue
                pending, data = data[cut:], data[:cut]
            else:
                pending = b""
                if not data:
                    break
            pos = 0
            while pos < len(data):
                if data[pos] == 0x3E:  # '>'
                    eol = data.find(b"\n", pos)
                    eol = len(data) if eol < 0 else eol
                    # the header text as Cas-OFFinder reports it: everything after '>'
                    text = data[pos + 1:eol].decode("utf-8", "replace").rstrip("\r")
                    name = text.split()[0] if text.split() else ""
                    if not name:
                        raise InputError("FASTA header without a name", path=path, line=line)
                    yield ("contig", name, text, line)
                    in_record = True
                    line += 1
                    pos = eol + 1
                    continue
                nxt = data.find(b"\n>", pos)
                end = len(data) if nxt < 0 else nxt + 1
                chunk = data[pos:end]
                seq = chunk.translate(None, strip)
                if seq:
                    if not in_record:
                        raise InputError("sequence data before the first '>' header "
                                         "(not a FASTA file?)", path=path, line=line)
                    yield ("seq", seq, line)
                line += chunk.count(b"\n")
                pos = end
            if not block:
                break
    except (OSError, EOFError) as exc:
        raise InputError(f"cannot read FASTA: {exc}", path=path, line=line) from None
    finally:
        handle.close()


def read_2bit(path, piece: int = PIECE_BASES):
    """Stream a UCSC 2bit file (through py2bit) as the same events as :func:`read_fasta`."""
    import py2bit

    try:
        tb = py2bit.open(str(path), True)
    except (RuntimeError, OSError) as exc:
        raise InputError(f"cannot read 2bit file: {exc}", path=path) from None
    if tb is None:
        raise InputError("cannot read 2bit file", path=path)
    try:
        for name, length in tb.chroms().items():
            yield ("contig", name, name, None)
            for start in range(0, length, piece):
                stop = min(length, start + piece)
                yield ("seq", tb.sequence(name, start, stop).encode("ascii"), None)
    finally:
        tb.close()


def _locate_letter(path, seq_line: int, index: int) -> int:
    """Line holding the ``index``-th sequence letter of a record whose sequence starts at
    ``seq_line`` (re-reads the file; only used to report an error)."""
    handle = _open_binary(path)
    try:
        seen = 0
        for lineno, raw in enumerate(handle, start=1):
            if lineno < seq_line:
                continue
            seen += len(raw.translate(None, b"\r\n \t"))
            if seen > index:
                return lineno
    finally:
        handle.close()
    return seq_line


# --------------------------------------------------------------------------- writer
class _StoreWriter:
    """Streams contigs into a ``.pmg`` file (temporary name until :meth:`close`)."""

    def __init__(self, handle):
        self.fh = handle
        self.fh.write(b"\0" * HEADER_SIZE)
        self.crc = 0
        self.n_blocks = 0
        self.soft_parts: list[np.ndarray] = []
        self.iupac_pos: list[np.ndarray] = []
        self.iupac_letter: list[np.ndarray] = []
        self.contigs: list[Contig] = []
        self._write_pad_block()

    def _emit(self, blocks: np.ndarray, soft: np.ndarray) -> None:
        raw = blocks.tobytes()
        self.crc = zlib.crc32(raw, self.crc)
        self.fh.write(raw)
        self.soft_parts.append(soft.copy())
        self.n_blocks += blocks.shape[0]

    def _write_pad_block(self) -> None:
        pad = np.zeros((1, 3), dtype=np.uint64)
        pad[0, 2] = _ALL_ONES
        self._emit(pad, np.zeros(1, dtype=np.uint64))

    def add_contig(self, name, description, pieces, path=None) -> Contig:
        first_block = self.n_blocks
        length = 0
        carry = b""
        seq_line = None  # line of the contig's first sequence letter, for error messages
        for seq, first_line in pieces:
            if seq_line is None:
                seq_line = first_line
            data = carry + seq
            usable = (len(data) // 64) * 64
            if usable:
                self._pack(data[:usable], length, path, name, seq_line)
                length += usable
            carry = data[usable:]
        if carry:
            self._pack(carry, length, path, name, seq_line)
            length += len(carry)
        contig = Contig(name, description, length, first_block)
        self.contigs.append(contig)
        return contig

    def _pack(self, data: bytes, done: int, path, name, seq_line) -> None:
        nb = (len(data) + 63) // 64
        blocks = np.zeros((nb, 3), dtype=np.uint64)
        soft = np.zeros(nb, dtype=np.uint64)
        bad = _pack.pack_bases(data, blocks, soft, 0)
        if bad >= 0:
            line = None
            if seq_line is not None and path is not None:
                line = _locate_letter(path, seq_line, done + bad)
            raise InputError(f"invalid sequence letter {chr(data[bad])!r} in contig {name!r} "
                             f"(position {done + bad + 1})", path=path, line=line)
        tail = len(data) % 64
        if tail:  # bases past the contig end never match
            blocks[-1, 2] |= _ALL_ONES << np.uint64(tail)
        arr = np.frombuffer(data, dtype=np.uint8)
        hits = np.flatnonzero(_IUPAC_LUT[arr])
        if hits.size:
            self.iupac_pos.append((self.n_blocks * 64 + hits).astype(np.int64))
            self.iupac_letter.append(arr[hits] & 0xDF)  # upper-case
        self._emit(blocks, soft)

    def finish(self) -> None:
        # Two trailing padding blocks: a 64-base window read starting anywhere up to one
        # block past the last contig stays inside the array.
        self._write_pad_block()
        self._write_pad_block()
        fh = self.fh
        soft_off = HEADER_SIZE + self.n_blocks * 24
        for part in self.soft_parts:
            raw = part.tobytes()
            self.crc = zlib.crc32(raw, self.crc)
            fh.write(raw)
        iupac_off = soft_off + self.n_blocks * 8
        pos = np.concatenate(self.iupac_pos) if self.iupac_pos else np.zeros(0, np.int64)
        let = np.concatenate(self.iupac_letter) if self.iupac_letter else np.zeros(0, np.uint8)
        for raw in (pos.tobytes(), let.tobytes()):
            self.crc = zlib.crc32(raw, self.crc)
            fh.write(raw)
        contigs_off = iupac_off + pos.size * 9
        meta = json.dumps({"contigs": [c.__dict__ for c in self.contigs]}).encode()
        fh.write(meta)
        file_len = contigs_off + len(meta)
        meta_crc = zlib.crc32(meta)
        header = _HEADER.pack(MAGIC, FORMAT_VERSION, 0, self.n_blocks, len(self.contigs),
                              HEADER_SIZE, soft_off, iupac_off, pos.size, contigs_off,
                              len(meta), file_len, self.crc, meta_crc, 0)
        header_crc = zlib.crc32(header[:-4])
        header = header[:-4] + struct.pack("<I", header_crc)
        fh.seek(0)
        fh.write(header)


def genome_sources(path) -> list[Path]:
    """The genome files behind ``path``: the file itself, or every FASTA / FASTA.gz / 2bit
    file in a folder (other files are skipped, as Cas-OFFinder does)."""
    path = Path(path)
    if not path.exists():
        raise InputError("genome file or folder not found", path=path)
    if not path.is_dir():
        return [path]
    found = []
    for entry in sorted(path.iterdir()):
        if not entry.is_file():
            continue
        with open(entry, "rb") as fh:
            head = fh.read(4)
        if head[:1] == b">" or head[:2] == b"\x1f\x8b" or head in _TWOBIT_MAGICS:
            found.append(entry)
    if not found:
        raise InputError("no FASTA or 2bit files in folder", path=path)
    return found


def _events(source):
    fmt = sniff_format(source)
    if fmt == "pmg":
        raise InputError("already a pmcore genome store; give the FASTA or 2bit file",
                         path=source)
    return read_2bit(source) if fmt == "2bit" else read_fasta(source)


def build_store(source, out_path, *, progress=None) -> Path:
    """Index FASTA / FASTA.gz / 2bit genome file(s) into a ``.pmg`` store (atomically).

    ``source`` is a file, a folder of genome files, or a list of files; contigs keep the
    order of the files and of the records inside them.
    """
    from .io import atomic_path

    sources = (list(source) if isinstance(source, (list, tuple))
               else genome_sources(source))
    out_path = Path(out_path)
    with atomic_path(out_path, ".pmg") as tmp:
        with open(tmp, "wb") as fh:
            writer = _StoreWriter(fh)
            seen = {}
            for src in sources:
                events = _events(src)
                first = next(events, None)
                if first is None:
                    raise InputError("no sequences found (empty file?)", path=src)
                pending = [first]

                def pieces(events=events, pending=pending):
                    for ev in events:
                        if ev[0] == "seq":
                            yield ev[1], ev[2]
                        else:
                            pending.append(ev)
                            return

                while pending:
                    _, name, description, line = pending.pop()
                    if name in seen:
                        raise InputError(f"duplicate sequence name {name!r} (first seen in "
                                         f"{seen[name]})", path=src, line=line)
                    seen[name] = src
                    writer.add_contig(name, description, pieces(), path=src)
                    if progress is not None:
                        progress(writer.contigs[-1])
            writer.finish()
    return out_path


# --------------------------------------------------------------------------- reader
class GenomeStore:
    """A memory-mapped ``.pmg`` genome store (read-only; safe to share between threads)."""

    def __init__(self, path, *, _cleanup: str | None = None):
        self.path = Path(path)
        self._cleanup = _cleanup
        try:
            self._fh = open(self.path, "rb")
        except FileNotFoundError:
            raise StoreError("genome store not found", path=path) from None
        size = os.fstat(self._fh.fileno()).st_size
        head = self._fh.read(HEADER_SIZE)
        if len(head) < _HEADER.size or not head.startswith(MAGIC):
            self._fh.close()
            raise StoreError("not a pmcore genome store (bad magic); run 'pmcore index' "
                             "to build one", path=path)
        fields = _HEADER.unpack(head[:_HEADER.size])
        (_, version, _flags, n_blocks, n_contigs, blocks_off, soft_off, iupac_off, n_iupac,
         contigs_off, contigs_len, file_len, body_crc, meta_crc, header_crc) = fields
        if zlib.crc32(head[:_HEADER.size - 4]) != header_crc:
            self._fh.close()
            raise StoreError("corrupted genome store header (checksum mismatch)", path=path)
        if version != FORMAT_VERSION:
            self._fh.close()
            raise StoreError(f"genome store format version {version} is not supported "
                             f"(this pmcore reads version {FORMAT_VERSION}); re-index",
                             path=path)
        if size != file_len:
            self._fh.close()
            raise StoreError(f"truncated or extended genome store: header says {file_len} "
                             f"bytes, file has {size}", path=path)
        self._mm = mmap.mmap(self._fh.fileno(), 0, access=mmap.ACCESS_READ)
        meta = self._mm[contigs_off:contigs_off + contigs_len]
        if zlib.crc32(meta) != meta_crc:
            self.close()
            raise StoreError("corrupted contig table (checksum mismatch)", path=path)
        self.contigs = [Contig(**c) for c in json.loads(meta)["contigs"]]
        if len(self.contigs) != n_contigs:
            self.close()
            raise StoreError("contig table does not match the header", path=path)
        self.n_blocks = n_blocks
        self._body = (blocks_off, contigs_off, body_crc)
        self.blocks = np.frombuffer(self._mm, dtype=np.uint64, count=n_blocks * 3,
                                    offset=blocks_off).reshape(n_blocks, 3)
        self.soft = np.frombuffer(self._mm, dtype=np.uint64, count=n_blocks, offset=soft_off)
        self.iupac_pos = np.frombuffer(self._mm, dtype=np.int64, count=n_iupac,
                                       offset=iupac_off)
        self.iupac_letter = np.frombuffer(self._mm, dtype=np.uint8, count=n_iupac,
                                          offset=iupac_off + 8 * n_iupac)
        self._by_name = {c.name: c for c in self.contigs}

    # -- lifecycle
    @classmethod
    def open(cls, path) -> "GenomeStore":
        return cls(path)

    def close(self) -> None:
        for attr in ("blocks", "soft", "iupac_pos", "iupac_letter"):
            self.__dict__.pop(attr, None)
        mm = self.__dict__.pop("_mm", None)
        if mm is not None:
            try:
                mm.close()
            except BufferError:  # arrays still exported; the mapping dies with them
                pass
        fh = self.__dict__.pop("_fh", None)
        if fh is not None:
            fh.close()
        if self._cleanup:
            try:
                os.unlink(self._cleanup)
            except FileNotFoundError:
                pass
            self._cleanup = None

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    # -- facts
    @property
    def total_bases(self) -> int:
        return sum(c.length for c in self.contigs)

    def contig(self, name: str) -> Contig:
        try:
            return self._by_name[name]
        except KeyError:
            raise InputError(f"unknown contig {name!r}", path=self.path) from None

    def describe(self) -> dict:
        return {
            "path": str(self.path),
            "format_version": FORMAT_VERSION,
            "contigs": len(self.contigs),
            "bases": self.total_bases,
            "bytes": self.path.stat().st_size,
            "names": [c.name for c in self.contigs[:20]],
        }

    def verify(self) -> None:
        """Recompute the body checksum; raise :class:`StoreError` on mismatch."""
        start, stop, expected = self._body
        crc = 0
        step = 1 << 26
        for pos in range(start, stop, step):
            crc = zlib.crc32(self._mm[pos:min(stop, pos + step)], crc)
        if crc != expected:
            raise StoreError("corrupted genome store body (checksum mismatch)", path=self.path)

    # -- sequence access
    def fetch(self, name: str, start: int, end: int, *, soft: bool = True) -> str:
        """Sequence ``[start, end)`` of a contig: IUPAC letters as in the source, lowercase
        where soft-masked (unless ``soft=False``)."""
        c = self.contig(name)
        start = max(0, start)
        end = min(c.length, end)
        if end <= start:
            return ""
        return self.fetch_global(c.offset + start, end - start, soft=soft)

    def fetch_global(self, gstart: int, length: int, *, soft: bool = True) -> str:
        text = bytearray(_pack.decode(self.blocks, gstart, length))
        lo = np.searchsorted(self.iupac_pos, gstart)
        hi = np.searchsorted(self.iupac_pos, gstart + length)
        for p, letter in zip(self.iupac_pos[lo:hi], self.iupac_letter[lo:hi]):
            text[int(p) - gstart] = int(letter)
        if soft:
            mask = self.soft_mask(gstart, length)
            if mask.any():
                arr = np.frombuffer(text, dtype=np.uint8).copy()
                arr[mask] |= 0x20
                text = bytearray(arr.tobytes())
        return text.decode("ascii")

    def release(self, gstart: int, gend: int) -> None:
        """Drop the mapped pages of bases ``[gstart, gend)`` from this process's resident
        set (they stay in the page cache and fault back in if read again), so a scan's
        memory stays bounded by the chunks in flight, whatever the genome size."""
        if not hasattr(mmap, "MADV_DONTNEED"):
            return
        page = mmap.PAGESIZE
        lo = self._body[0] + (gstart >> 6) * 24
        hi = self._body[0] + ((gend + 63) >> 6) * 24
        lo = -(-lo // page) * page  # whole pages inside the range only
        hi = (hi // page) * page
        if hi > lo:
            try:
                self._mm.madvise(mmap.MADV_DONTNEED, lo, hi - lo)
            except (OSError, ValueError):  # advisory only
                pass

    def decode_ranges(self, starts: np.ndarray, ends: np.ndarray) -> tuple[str, bytes]:
        """Upper-case letters of many global ranges, concatenated (IUPAC letters as in the
        source), and one soft-mask flag byte per range."""
        starts = np.ascontiguousarray(starts, dtype=np.int64)
        ends = np.ascontiguousarray(ends, dtype=np.int64)
        raw, masked = _pack.decode_many(self.blocks, self.soft, starts, ends)
        if self.iupac_pos.size and starts.size:
            first = np.searchsorted(self.iupac_pos, starts)
            last = np.searchsorted(self.iupac_pos, ends)
            patch = np.flatnonzero(last > first)
            if patch.size:
                buf = bytearray(raw)
                offsets = np.concatenate([[0], np.cumsum(ends - starts)])
                for i in patch:
                    for j in range(first[i], last[i]):
                        buf[offsets[i] + int(self.iupac_pos[j]) - starts[i]] = int(
                            self.iupac_letter[j])
                raw = bytes(buf)
        return raw.decode("ascii"), masked

    def soft_mask(self, gstart: int, length: int) -> np.ndarray:
        """Boolean array: which of ``length`` bases from global ``gstart`` are lowercase."""
        b0 = gstart >> 6
        b1 = (gstart + length + 63) >> 6
        words = np.ascontiguousarray(self.soft[b0:b1])
        bits = np.unpackbits(words.view(np.uint8), bitorder="little").astype(bool)
        off = gstart - b0 * 64
        return bits[off:off + length]


def open_genome(path, *, progress=None) -> GenomeStore:
    """Open a ``.pmg`` store, or index FASTA / 2bit file(s) (or a folder of them) on the fly
    into a temporary store that is deleted on close."""
    if not Path(path).is_dir() and sniff_format(path) == "pmg":
        return GenomeStore(path)
    fd, tmp = tempfile.mkstemp(prefix="pmcore-", suffix=".pmg")
    os.close(fd)
    try:
        build_store(path, tmp, progress=progress)
        return GenomeStore(tmp, _cleanup=tmp)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise
