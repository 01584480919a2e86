"""Annotation against a real pmcore genome store: soft-mask bits and spliced sequences."""

from __future__ import annotations

import io

import numpy as np
import polars as pl
import pytest

from pmcore.annotation import annotate_hits, read_gtf, revcomp, softmask_flags
from pmcore.errors import InputError

genome = pytest.importorskip("pmcore.genome")


@pytest.fixture(scope="module")
def store_and_text(tmp_path_factory):
    rng = np.random.default_rng(8)
    seqs = {}
    for name, n in (("chrA", 5000), ("chrB", 1337)):
        s = rng.choice(list("ACGT"), n)
        lower = np.zeros(n, dtype=bool)
        for _ in range(12):  # soft-masked runs, some crossing 64-base block edges
            a = int(rng.integers(0, n - 1))
            lower[a:a + int(rng.integers(1, 200))] = True
        s = np.where(lower, np.char.lower(s), s)
        seqs[name] = "".join(s)
    d = tmp_path_factory.mktemp("genome")
    fa = d / "g.fa"
    fa.write_text("".join(f">{k} test\n{v}\n" for k, v in seqs.items()))
    store = genome.GenomeStore(genome.build_store(fa, d / "g.pmg"))
    yield store, seqs
    store.close()


def test_softmask_from_store_matches_text(store_and_text):
    store, seqs = store_and_text
    rng = np.random.default_rng(1)
    chrom = rng.choice(["chrA", "chrB"], 2000).astype(object)
    lens = np.array([len(seqs[c]) for c in chrom])
    start = (rng.random(2000) * (lens - 1)).astype(np.int64)
    end = np.minimum(start + rng.integers(1, 300, 2000), lens)
    expect = [any(ch.islower() for ch in seqs[c][s:e]) for c, s, e in zip(chrom, start, end)]
    assert softmask_flags(store, chrom, start, end).tolist() == expect
    df = pl.DataFrame({"chrom": chrom.astype(str), "start": start, "end": end,
                       "strand": ["+"] * 2000})
    assert annotate_hits(df, softmask=store)["softmasked"].to_list() == expect


def test_spliced_sequence_from_store(store_and_text):
    store, seqs = store_and_text
    gtf = ('chrA\tt\texon\t101\t150\t.\t-\t.\tgene_id "g"; transcript_id "t";\n'
           'chrA\tt\texon\t4001\t4100\t.\t-\t.\tgene_id "g"; transcript_id "t";\n')
    gm = read_gtf(io.StringIO(gtf)).for_genome({c.name: c.length for c in store.contigs})
    sp = gm.transcript("t").spliced_sequence(store.fetch)
    assert sp.sequence == revcomp(seqs["chrA"][100:150] + seqs["chrA"][4000:4100])
    assert sp.genome_pos[0] == 4099 and sp.genome_pos[-1] == 100
    too_long = 'chrB\tt\texon\t1300\t1400\t.\t+\t.\tgene_id "h"; transcript_id "u";\n'
    with pytest.raises(InputError, match="'u'.*beyond the contig's length 1337"):
        read_gtf(io.StringIO(too_long)).for_genome({c.name: c.length for c in store.contigs})
