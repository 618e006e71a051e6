#!/usr/bin/env python
"""Tag documents and write JSONL: ``{"id", "text", "entities": [{"start","end","label","text","score"}]}``."""
import json
import sys

import hydra
from omegaconf import DictConfig

from ner import cli

cli.setup()


@hydra.main(version_base="1.3", config_path=cli.config_dir(), config_name="predict")
def main(cfg: DictConfig) -> None:
    from ner.data.io.common import atomic_write
    from ner.data.io.text_inputs import read_inputs
    from ner.models.hub import ModelLoadError
    from ner.predictor import NerPredictor

    try:
        docs = read_inputs(sys.stdin if cfg.input == "-" else cfg.input)
        predictor = NerPredictor.from_pretrained(cfg.model_path, batch_size=cfg.batch_size)
    except (ModelLoadError, FileNotFoundError, ValueError) as e:
        cli.fail(str(e))
    results = predictor.predict([t for _, t in docs])
    lines = [json.dumps({"id": i, "text": t, "entities": [e.to_dict() for e in ents]}, ensure_ascii=False)
             for (i, t), ents in zip(docs, results)]
    if cfg.output:
        with atomic_write(cfg.output) as f:
            f.write("".join(line + "\n" for line in lines))
        print(f"wrote {len(lines)} documents to {cfg.output}", file=sys.stderr)
    else:
        sys.stdout.write("".join(line + "\n" for line in lines))


if __name__ == "__main__":
    main()
