"""Genome store: FASTA/2bit parsing, packing round trip, header checks, bad input."""

from __future__ import annotations

import gzip
import random
import struct

import numpy as np
import pytest

from pmcore.errors import InputError, StoreError
from pmcore.genome import GenomeStore, build_store, open_genome


def write_2bit(path, records):
    """Minimal UCSC 2bit writer (format spec: header, index, per-record N and mask blocks)."""
    def blocks(seq, pred):
        out, i = [], 0
        while i < len(seq):
            if pred(seq[i]):
                j = i
                while j < len(seq) and pred(seq[j]):
                    j += 1
                out.append((i, j - i))
                i = j
            else:
                i += 1
        return out

    names = list(records)
    header = struct.pack("<IIII", 0x1A412743, 0, len(names), 0)
    index_size = sum(1 + len(n) + 4 for n in names)
    offset = len(header) + index_size
    bodies = []
    for name in names:
        seq = records[name]
        nb = blocks(seq, lambda c: c in "Nn")
        mb = blocks(seq, lambda c: c.islower())
        codes = {"T": 0, "C": 1, "A": 2, "G": 3}
        packed = bytearray()
        up = seq.upper()
        for i in range(0, len(up), 4):
            byte = 0
            for k in range(4):
                c = up[i + k] if i + k < len(up) else "T"
                byte = (byte << 2) | codes.get(c, 0)
            packed.append(byte)
        body = struct.pack("<II", len(seq), len(nb))
        body += b"".join(struct.pack("<I", s) for s, _ in nb)
        body += b"".join(struct.pack("<I", n) for _, n in nb)
        body += struct.pack("<I", len(mb))
        body += b"".join(struct.pack("<I", s) for s, _ in mb)
        body += b"".join(struct.pack("<I", n) for _, n in mb)
        body += struct.pack("<I", 0) + bytes(packed)
        bodies.append(body)
    index = b""
    for name, body in zip(names, bodies):
        index += bytes([len(name)]) + name.encode() + struct.pack("<I", offset)
        offset += len(body)
    with open(path, "wb") as fh:
        fh.write(header + index + b"".join(bodies))


def random_genome(rng, n_contigs=3):
    genome = {}
    for i in range(n_contigs):
        n = rng.choice([1, 63, 64, 65, 200, 1000])
        seq = "".join(rng.choice("ACGTACGTACGTNRYacgtn") for _ in range(n))
        genome[f"contig_{i}"] = seq
    return genome


@pytest.mark.parametrize("seed", range(5))
@pytest.mark.parametrize("layout", ["plain", "crlf", "gzip", "long_lines", "2bit"])
def test_store_round_trip(tmp_path, seed, layout):
    rng = random.Random(seed)
    genome = random_genome(rng)
    if layout == "2bit":
        # 2bit keeps only ACGTN and case
        # 2bit keeps only ACGTN and case; py2bit reports masked N as 'N'
        genome = {k: "".join(c if c in "ACGTNacgt" else "N" for c in v) for k, v in genome.items()}
        src = tmp_path / "g.2bit"
        write_2bit(src, genome)
    else:
        width = {"long_lines": 10_000}.get(layout, rng.choice([1, 7, 60, 80]))
        eol = "\r\n" if layout == "crlf" else "\n"
        text = "".join(f">{k} description words{eol}"
                       + "".join(v[i:i + width] + eol for i in range(0, len(v), width))
                       for k, v in genome.items())
        src = tmp_path / ("g.fa.gz" if layout == "gzip" else "g.fa")
        if layout == "gzip":
            # two concatenated gzip members, as bgzip writes them
            half = len(text) // 2
            src.write_bytes(gzip.compress(text[:half].encode()) + gzip.compress(text[half:].encode()))
        else:
            src.write_bytes(text.encode())
    build_store(src, tmp_path / "g.pmg")
    with GenomeStore(tmp_path / "g.pmg") as store:
        store.verify()
        assert [c.name for c in store.contigs] == list(genome)
        for name, seq in genome.items():
            assert store.fetch(name, 0, len(seq)) == seq
            lo = rng.randrange(len(seq))
            assert store.fetch(name, lo, lo + 17) == seq[lo:lo + 17]
            assert store.contig(name).length == len(seq)
        if layout != "2bit":
            assert store.contigs[0].description == "contig_0 description words"


def test_unknown_letter_names_file_and_line(tmp_path):
    src = tmp_path / "bad.fa"
    src.write_text(">a\nACGT\nACGT\n>b\nACGTACGT\nAC*GT\n")
    with pytest.raises(InputError) as exc:
        build_store(src, tmp_path / "bad.pmg")
    assert "bad.fa:6" in str(exc.value) and "'*'" in str(exc.value)
    assert not (tmp_path / "bad.pmg").exists()
    assert not list(tmp_path.glob(".bad.pmg*"))


@pytest.mark.parametrize("text,reason", [
    ("ACGT\n>a\nACGT\n", "before the first"),
    (">\nACGT\n", "without a name"),
    (">a\nACGT\n>a\nACGT\n", "duplicate sequence name"),
    ("", "no sequences"),
])
def test_malformed_fasta(tmp_path, text, reason):
    src = tmp_path / "bad.fa"
    src.write_text(text)
    with pytest.raises(InputError, match=reason):
        build_store(src, tmp_path / "bad.pmg")
    assert not (tmp_path / "bad.pmg").exists()


def test_corrupted_and_truncated_store(tmp_path):
    src = tmp_path / "g.fa"
    src.write_text(">a\n" + "ACGT" * 500 + "\n")
    build_store(src, tmp_path / "g.pmg")
    data = (tmp_path / "g.pmg").read_bytes()
    (tmp_path / "trunc.pmg").write_bytes(data[:-10])
    with pytest.raises(StoreError, match="truncated"):
        GenomeStore(tmp_path / "trunc.pmg")
    bad = bytearray(data)
    bad[20] ^= 0xFF
    (tmp_path / "hdr.pmg").write_bytes(bytes(bad))
    with pytest.raises(StoreError, match="header"):
        GenomeStore(tmp_path / "hdr.pmg")
    bad = bytearray(data)
    bad[4096 + 40] ^= 0x01
    (tmp_path / "body.pmg").write_bytes(bytes(bad))
    with GenomeStore(tmp_path / "body.pmg") as store, pytest.raises(StoreError, match="body"):
        store.verify()
    (tmp_path / "other.pmg").write_bytes(b"hello world" * 100)
    with pytest.raises(StoreError, match="not a pmcore genome store"):
        GenomeStore(tmp_path / "other.pmg")


def test_open_genome_indexes_fasta_on_the_fly_and_cleans_up(tmp_path):
    src = tmp_path / "g.fa"
    src.write_text(">a\nACGTTGCA\n")
    with open_genome(src) as store:
        tmp = store.path
        assert store.fetch("a", 0, 8) == "ACGTTGCA"
    assert not tmp.exists()


def test_soft_mask_and_iupac_kept(tmp_path):
    src = tmp_path / "g.fa"
    src.write_text(">a\nACGTrykmNNnnacgtACGT\n")
    build_store(src, tmp_path / "g.pmg")
    with GenomeStore(tmp_path / "g.pmg") as store:
        assert store.fetch("a", 0, 20) == "ACGTrykmNNnnacgtACGT"
        assert store.fetch("a", 0, 20, soft=False) == "ACGTRYKMNNNNACGTACGT"
        mask = store.soft_mask(store.contig("a").offset, 20)
        assert mask.tolist() == [c.islower() for c in "ACGTrykmNNnnacgtACGT"]
        assert np.all(store.blocks[0, 2] == np.uint64(0xFFFFFFFFFFFFFFFF))
