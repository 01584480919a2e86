"""IntervalIndex and the soft-mask bit lookup against brute force on random intervals."""

from __future__ import annotations

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from pmcore.annotation import IntervalIndex, _any_bits, softmask_flags


def brute_pairs(starts, ends, qs, qe):
    return sorted((q, i) for q in range(len(qs)) for i in range(len(starts))
                  if starts[i] < qe[q] and qs[q] < ends[i])


intervals = st.lists(
    st.tuples(st.integers(0, 400), st.one_of(st.integers(0, 12), st.integers(0, 300))),
    max_size=40)
queries = st.lists(st.tuples(st.integers(0, 450), st.integers(0, 40)), max_size=30)


@settings(max_examples=300, deadline=None)
@given(intervals, queries)
def test_pairs_and_any_match_brute_force(ivs, qs_):
    starts = np.array([s for s, _ in ivs], dtype=np.int64)
    ends = np.array([s + ln for s, ln in ivs], dtype=np.int64)
    qs = np.array([s for s, _ in qs_], dtype=np.int64)
    qe = np.array([s + ln for s, ln in qs_], dtype=np.int64)
    ix = IntervalIndex(starts, ends)
    qi, ii = ix.pairs(qs, qe)
    assert sorted(zip(qi.tolist(), ii.tolist())) == brute_pairs(starts, ends, qs, qe)
    expect_any = np.zeros(len(qs), dtype=bool)
    for q, _ in brute_pairs(starts, ends, qs, qe):
        expect_any[q] = True
    assert ix.any_overlap(qs, qe).tolist() == expect_any.tolist()


def test_pairs_carry_ids_and_handle_long_intervals():
    rng = np.random.default_rng(7)
    starts = rng.integers(0, 1_000_000, 3000)
    ends = starts + np.where(rng.random(3000) < 0.05, rng.integers(1, 500_000, 3000),
                             rng.integers(1, 300, 3000))
    ids = rng.permutation(3000) + 10_000
    qs = rng.integers(0, 1_100_000, 500)
    qe = qs + rng.integers(1, 50, 500)
    qi, ii = IntervalIndex(starts, ends, ids).pairs(qs, qe)
    expect = sorted((q, int(ids[i])) for q, i in brute_pairs(starts, ends, qs, qe))
    assert sorted(zip(qi.tolist(), ii.tolist())) == expect
    assert len(expect) > 100  # the long intervals really are found


def test_empty_index_and_bad_input():
    ix = IntervalIndex([], [])
    qi, ii = ix.pairs([1, 2], [3, 4])
    assert qi.size == ii.size == 0
    assert ix.any_overlap([1], [2]).tolist() == [False]
    try:
        IntervalIndex([5], [4])
    except ValueError:
        pass
    else:
        raise AssertionError("end < start accepted")


@settings(max_examples=200, deadline=None)
@given(st.integers(0, 2**32 - 1), st.integers(1, 9000))
def test_any_bits_matches_per_base(seed, maxlen):
    rng = np.random.default_rng(seed)
    nbits = 64 * 200
    bits = rng.random(nbits) < rng.choice([0.0005, 0.01, 0.3])
    words = np.packbits(bits, bitorder="little").view(np.uint64)
    gs = rng.integers(0, nbits, 50)
    ge = np.minimum(gs + rng.integers(0, maxlen + 1, 50), nbits)
    expect = [bool(bits[s:e].any()) for s, e in zip(gs, ge)]
    assert _any_bits(words, gs, ge).tolist() == expect


class _FakeContig:
    def __init__(self, name, block, length):
        self.name, self.block, self.length = name, block, length

    @property
    def offset(self):
        return self.block * 64


class _FakeStore:
    """The two attributes softmask_flags reads from a GenomeStore."""

    def __init__(self, masks):
        self.contigs, words, block = [], [], 0
        for name, m in masks.items():
            nblk = (len(m) + 63) // 64
            padded = np.zeros(nblk * 64, dtype=bool)
            padded[:len(m)] = m
            words.append(np.packbits(padded, bitorder="little").view(np.uint64))
            self.contigs.append(_FakeContig(name, block, len(m)))
            block += nblk
        self.soft = np.concatenate(words)


def test_softmask_sources_agree():
    rng = np.random.default_rng(3)
    masks = {"a": rng.random(1000) < 0.02, "b": rng.random(777) < 0.2}
    chrom = rng.choice(["a", "b"], 300).astype(object)
    start = rng.integers(0, 700, 300)
    end = start + rng.integers(1, 60, 300)
    expect = [bool(masks[c][s:e].any()) for c, s, e in zip(chrom, start, end)]
    assert softmask_flags(masks, chrom, start, end).tolist() == expect
    assert softmask_flags(_FakeStore(masks), chrom, start, end).tolist() == expect
    calls = []

    def fn(name, s, e):
        calls.append(name)
        return np.array([masks[name][a:b].any() for a, b in zip(s, e)])

    assert softmask_flags(fn, chrom, start, end).tolist() == expect
    assert sorted(calls) == ["a", "b"]
