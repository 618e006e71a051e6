"""Entity types, the IOB2 tag scheme and label maps from other corpora's tag sets."""
from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence

ENTITY_TYPES: tuple[str, ...] = ("ORG", "PER", "LOC", "MONEY", "CLUSTER")
OUTSIDE = "O"


def bio_tags(entity_types: Iterable[str] = ENTITY_TYPES) -> list[str]:
    """``["O", "B-ORG", "I-ORG", ...]`` in a fixed order, so that label ids are stable across runs."""
    tags = [OUTSIDE]
    for t in entity_types:
        tags += [f"B-{t}", f"I-{t}"]
    return tags


def split_tag(tag: str) -> tuple[str, str | None]:
    """``"B-ORG"`` -> ``("B", "ORG")``; ``"O"`` -> ``("O", None)``. Accepts ``B_ORG`` too."""
    if tag == OUTSIDE:
        return OUTSIDE, None
    if len(tag) > 2 and tag[0] in "BI" and tag[1] in "-_":
        return tag[0], tag[2:]
    raise ValueError(f"not an IOB2 tag: {tag!r}")


def repair_iob2(tags: Sequence[str]) -> list[str]:
    """Turn an orphan ``I-X`` (no ``B-X``/``I-X`` before it) into ``B-X``; also converts IOB1 to IOB2."""
    out: list[str] = []
    prev_type: str | None = None
    for tag in tags:
        prefix, typ = split_tag(tag)
        if prefix == "I" and prev_type != typ:
            prefix = "B"
        out.append(OUTSIDE if typ is None else f"{prefix}-{typ}")
        prev_type = typ
    return out


class LabelMap:
    """Maps a corpus's own entity type names onto ours.

    ``mapping`` sends a source type (``"pers"``, ``"MON"``) to one of ``ENTITY_TYPES`` or to ``"O"`` (drop it).
    A source type that the mapping does not name is an error unless ``unknown="O"`` — silently dropping a type
    would teach the model false negatives without anyone noticing.
    """

    def __init__(self, mapping: Mapping[str, str] | None = None, unknown: str = "error",
                 entity_types: Sequence[str] = ENTITY_TYPES):
        self.mapping = dict(mapping or {})
        self.unknown = unknown
        self.entity_types = tuple(entity_types)
        for src, dst in self.mapping.items():
            if dst != OUTSIDE and dst not in self.entity_types:
                raise ValueError(f"label map sends {src!r} to {dst!r}, which is not one of {self.entity_types} or 'O'")
        if unknown not in ("error", OUTSIDE):
            raise ValueError(f"unknown= must be 'error' or 'O', not {unknown!r}")

    def map_type(self, typ: str) -> str:
        """Return our type for a source type, or ``"O"``; raise ``KeyError`` for an unmapped type."""
        if typ in self.mapping:
            return self.mapping[typ]
        if typ in self.entity_types:
            return typ
        if self.unknown == OUTSIDE:
            return OUTSIDE
        raise KeyError(typ)

    def map_tag(self, tag: str) -> str:
        prefix, typ = split_tag(tag)
        if typ is None:
            return OUTSIDE
        mapped = self.map_type(typ)
        return OUTSIDE if mapped == OUTSIDE else f"{prefix}-{mapped}"
