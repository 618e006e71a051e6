"""The single-process tagging loop of ``scripts/predict.py``: records in, rendered records out, in chunks.

Memory stays bounded by one chunk of documents (plus the set of ids, for resuming and for refusing duplicate
ids): the input is iterated, never loaded. Within a chunk the predictor sorts windows by length, so larger chunks
pad less. The output order is the input order.
"""
from __future__ import annotations

import sys
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from ner.data.documents import AnnotationError
from ner.inference.inputs import Record
from ner.inference.outputs import Output, label_studio_json, prepare_output, render

CHUNK = 512


@dataclass
class RunStats:
    tagged: int = 0
    skipped: int = 0          # already in the output (resumed)
    written: list = field(default_factory=list)  # files written besides the output (e.g. Label Studio JSON)


class IdGuard:
    """Ids seen in this input: a second record with the same id would make resuming ambiguous."""

    def __init__(self, done: set[str]):
        self.done, self.seen = done, set()

    def admit(self, rec: Record, source: str = "input") -> bool:
        """``True`` if ``rec`` still has to be tagged; ``False`` if the output has it already."""
        if rec.id in self.seen:
            raise AnnotationError(f"duplicate id {rec.id!r}: ids must be unique for the output to be resumable "
                                  "(give each record its own id, or drop the id field to number by line)",
                                  source=source, line=rec.line)
        self.seen.add(rec.id)
        return rec.id not in self.done


def chunks(records: Iterable[Record], size: int) -> Iterator[list[Record]]:
    chunk = []
    for rec in records:
        chunk.append(rec)
        if len(chunk) >= size:
            yield chunk
            chunk = []
    if chunk:
        yield chunk


def progress_bar(enabled: bool, desc: str = "tag"):
    from tqdm.auto import tqdm

    return tqdm(desc=desc, unit="doc", file=sys.stderr, disable=not enabled, dynamic_ncols=True)


def tag_stream(predict: Callable[[Sequence[str]], list], records: Iterable[Record], output: str | Path | None,
               fmt: str = "entities", *, resume: bool = True, chunk_size: int = CHUNK, progress: bool = False,
               stream=None, source: str = "input", **render_opts) -> RunStats:
    """Tag ``records`` with ``predict`` (``NerPredictor.predict``) into ``output`` (``None``: ``stream``, default
    stdout; no resuming there). A rerun with the same output skips the ids already written."""
    done = prepare_output(output, fmt, resume) if output else set()
    guard, stats = IdGuard(done), RunStats()
    bar = progress_bar(progress)
    try:
        with Output(output, stream if stream is not None else sys.stdout) as out:
            def todo() -> Iterator[Record]:
                for rec in records:
                    if guard.admit(rec, source):
                        yield rec
                    else:
                        stats.skipped += 1
                        bar.update(1)
            for chunk in chunks(todo(), chunk_size):
                results = predict([r.text for r in chunk])
                out.write([render(fmt, r.id, r.text, [e.to_dict() for e in ents], **render_opts)
                           for r, ents in zip(chunk, results)])
                stats.tagged += len(chunk)
                bar.update(len(chunk))
                bar.set_postfix(skipped=stats.skipped, refresh=False)
    finally:
        bar.close()
    if output and fmt == "label_studio":
        stats.written.append(label_studio_json(output))
    return stats
