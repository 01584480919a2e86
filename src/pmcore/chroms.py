"""Chromosome-name reconciliation between a genome and GTF / GFF3 / BED / VCF inputs.

Genomes and annotations often spell the same contig differently (``chr1`` vs ``1``,
``chrM`` vs ``MT``, ``chrx`` vs ``chrX``). pmcore never guesses silently: a name that only
matches the genome after such a rewrite is an error whose message suggests the genome's
spelling and the ``--chrom-alias`` file that maps it. Names with no counterpart at all
(an annotation covering more contigs than the genome holds) can be dropped on request.

Alias file (``--chrom-alias``): tab- (or whitespace-) separated, one contig per line, two
or more names that mean the same contig, in any order (UCSC ``chromAlias.txt`` works);
lines starting with ``#`` and blank lines are skipped. On each line, the name present in
the genome is the target of all the others.

Examples
--------
>>> cm = ChromMap(["chr1", "chr2", "chrM"], aliases={"1": "chr1"})
>>> cm.get("1"), cm.get("chr2"), cm.get("2")
('chr1', 'chr2', None)
>>> suggest("MT", ["chr1", "chrM"])
'chrM'
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from .errors import InputError
from .io import open_text_input

_MITO = ("chrM", "chrMT", "MT", "M", "chrm", "mt", "Mt")


def _variants(name: str) -> list[str]:
    """Spellings of ``name`` under common conventions (chr prefix, mitochondrion)."""
    base = name[3:] if name[:3].lower() == "chr" else name
    forms = [base, "chr" + base, "Chr" + base, "CHR" + base]
    if base.upper() in ("M", "MT"):
        forms += list(_MITO)
    return [f for f in dict.fromkeys(forms) if f and f != name]


def suggest(name: str, known: Iterable[str]) -> str | None:
    """Best guess of the genome's spelling of ``name``, or None.

    Tries the ``chr`` prefix added or removed, ``chrM``/``MT``/``M``, then the same forms
    ignoring case.

    >>> suggest("1", ["chr1", "chr2"]), suggest("chrX", ["X", "Y"]), suggest("chrx", ["chrX"])
    ('chr1', 'X', 'chrX')
    >>> suggest("scaffold_9", ["chr1"]) is None
    True
    """
    known = list(known)
    known_set = set(known)
    forms = _variants(name)
    for f in forms:
        if f in known_set:
            return f
    lower = {}
    for k in known:
        lower.setdefault(k.lower(), k)
    for f in [name, *forms]:
        hit = lower.get(f.lower())
        if hit is not None and hit != name:
            return hit
    return None


def read_alias_file(path) -> list[list[str]]:
    """Groups of equivalent contig names from an alias file (see module docs).

    Raises :class:`InputError` (file, line, reason) for a line with a single name.
    """
    groups = []
    with open_text_input(path) as handle:
        for lineno, line in enumerate(handle, 1):
            text = line.strip()
            if not text or text.startswith("#"):
                continue
            names = [n for n in (text.split("\t") if "\t" in text else text.split()) if n]
            if len(names) < 2:
                raise InputError("alias line needs at least two names (tab-separated): "
                                 "the name in the input and the name in the genome",
                                 path=path, line=lineno)
            groups.append([n.strip() for n in names])
    return groups


class ChromMap:
    """Maps input contig names onto the genome's names.

    Parameters
    ----------
    genome_names : iterable of str
        Contig names of the genome (the targets).
    aliases : mapping or iterable of name groups, optional
        ``{input_name: genome_name}`` or groups of equivalent names as returned by
        :func:`read_alias_file`. In a group, the name present in the genome is the target.
    alias_path : str, optional
        File the aliases came from (for error messages).
    """

    def __init__(self, genome_names, aliases=None, *, alias_path=None):
        self.genome_names = list(dict.fromkeys(genome_names))
        self._genome = set(self.genome_names)
        self._alias: dict[str, str] = {}
        self.alias_path = alias_path
        if aliases is None:
            groups = []
        elif isinstance(aliases, Mapping):
            groups = [[k, v] for k, v in aliases.items()]
        else:
            groups = [list(g) for g in aliases]
        for number, group in enumerate(groups, 1):
            targets = list(dict.fromkeys(n for n in group if n in self._genome))
            if len(targets) > 1:
                raise InputError(f"alias group {group} names several genome contigs "
                                 f"({', '.join(targets)})", path=alias_path,
                                 record=f"alias entry {number}")
            if targets:
                for n in group:
                    if n not in self._genome:
                        self._alias[n] = targets[0]

    @classmethod
    def from_alias_file(cls, genome_names, path=None) -> ChromMap:
        """Map with the aliases of ``path`` (``None``: no aliases)."""
        if path is None:
            return cls(genome_names)
        return cls(genome_names, read_alias_file(path), alias_path=path)

    @classmethod
    def coerce(cls, genome_names, chrom_alias=None) -> ChromMap:
        """A map from what a caller was given: an existing map, an alias mapping, an
        alias file path, or None (no aliases)."""
        if isinstance(chrom_alias, ChromMap):
            return chrom_alias
        if chrom_alias is None or isinstance(chrom_alias, Mapping):
            return cls(list(genome_names), chrom_alias)
        return cls.from_alias_file(list(genome_names), chrom_alias)

    @staticmethod
    def first_lines(chroms, lines) -> dict:
        """First file line of each contig name (for error messages)."""
        first = {}
        for c, line in zip(chroms, lines):
            first.setdefault(c, line)
        return first

    def get(self, name: str) -> str | None:
        """Genome name of ``name`` (itself, or via an alias), or None."""
        if name in self._genome:
            return name
        return self._alias.get(name)

    def _unknown_message(self, name: str, what: str) -> str:
        hint = suggest(name, self.genome_names)
        examples = ", ".join(repr(n) for n in self.genome_names[:4])
        more = ", ..." if len(self.genome_names) > 4 else ""
        if hint is not None:
            return (f"chromosome {name!r} of the {what} is not in the genome; did you mean "
                    f"{hint!r}? The genome names its contigs {examples}{more}. Pass "
                    f"--chrom-alias FILE with lines '{name}<TAB>{hint}' to map the names")
        return (f"chromosome {name!r} of the {what} is not in the genome (contigs: "
                f"{examples}{more}); pass --chrom-alias FILE to map names")

    def resolve(self, name: str, *, what: str = "input", path=None, line=None) -> str:
        """Genome name of ``name``; raise :class:`InputError` with a suggestion if unknown."""
        hit = self.get(name)
        if hit is None:
            raise InputError(self._unknown_message(name, what), path=path, line=line,
                             record=name)
        return hit

    def reconcile(self, names, *, what: str = "input", path=None,
                  allow_missing: bool = True, lines: Mapping[str, int] | None = None
                  ) -> dict[str, str]:
        """Map a set of input names onto the genome.

        A name that matches a genome contig only after a spelling change (``chr1`` vs
        ``1``) is always an error with a suggestion, as is a set of names none of which
        is in the genome. Other unknown names are errors unless ``allow_missing`` (then
        they are left out of the returned mapping: the input covers more contigs than the
        genome, e.g. a whole-genome GTF with a one-chromosome genome).

        Returns
        -------
        dict
            ``{input_name: genome_name}`` for every name that maps.
        """
        names = list(dict.fromkeys(names))
        lines = lines or {}
        mapping = {}
        for name in names:
            hit = self.get(name)
            if hit is not None:
                mapping[name] = hit
                continue
            if suggest(name, self.genome_names) is not None or not allow_missing:
                raise InputError(self._unknown_message(name, what), path=path,
                                 line=lines.get(name), record=name)
        if names and not mapping:
            first = names[0]
            raise InputError(f"none of the {len(names)} chromosome names of the {what} "
                             f"is in the genome. " + self._unknown_message(first, what),
                             path=path, line=lines.get(first), record=first)
        return mapping
