"""The layout is the architecture (docs/architecture.md): each ``ner`` package imports only from layers below it,
and no ``ner`` module takes part in an import cycle.

Modules are parsed with ``ast``, not imported, and every import statement counts, including those inside
functions: a lazy import would otherwise hide an upward dependency or a cycle that only bites at call time.
The implicit import of a parent package's ``__init__`` is not an edge (Python resolves it without a cycle).
"""
import ast
from pathlib import Path

SRC = Path(__file__).resolve().parents[1] / "src"

# Lowest first. A module may import from its own package and from any package of a lower layer; packages of one
# layer are independent of each other. A new package under src/ner must be placed here.
LAYERS = [
    ["ner.data"],                          # documents, labels, words, normalisation, spans, readers, corpus tools
    ["ner.models"],                        # encoders, hub loading, subword alignment, losses, CRF baseline
    ["ner.evaluation", "ner.predictor"],   # scoring and reports; inference on new text
    ["ner.training", "ner.pretraining", "ner.inference"],  # fine-tuning runs; MLM pretraining; tagging at scale
    ["ner", "ner.cli"],                    # the public facade (``from ner import NerPredictor``), script glue
]


def module_files(src: Path) -> dict[str, Path]:
    """``{dotted module name: file}`` for every module of the ``ner`` package under ``src``."""
    modules = {}
    for path in sorted((src / "ner").rglob("*.py")):
        parts = list(path.relative_to(src).with_suffix("").parts)
        if parts[-1] == "__init__":
            parts.pop()
        modules[".".join(parts)] = path
    return modules


def imported_modules(name: str, path: Path, modules: dict[str, Path]) -> set[str]:
    """The ``ner`` modules that ``name`` imports anywhere in its file (``from ner.x import y`` is ``ner.x.y``
    when that is a module, else ``ner.x``)."""
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    targets = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), filename=str(path))):
        if isinstance(node, ast.Import):
            targets.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")
                base = ".".join(base[:len(base) - node.level + 1] + ([node.module] if node.module else []))
            else:
                base = node.module
            for alias in node.names:
                sub = f"{base}.{alias.name}"
                targets.add(sub if sub in modules else base)
    return {t for t in targets if t == "ner" or t.startswith("ner.")} - {name}


def import_graph(src: Path) -> dict[str, set[str]]:
    modules = module_files(src)
    return {name: imported_modules(name, path, modules) for name, path in modules.items()}


def package_of(module: str) -> str:
    """``ner.data.io.jsonl`` -> ``ner.data``; ``ner.predictor`` -> ``ner.predictor``; ``ner`` -> ``ner``."""
    return ".".join(module.split(".")[:2])


def layer_of(package: str, layers=LAYERS) -> int | None:
    return next((i for i, layer in enumerate(layers) if package in layer), None)


def upward_imports(graph: dict[str, set[str]], layers=LAYERS) -> list[str]:
    """Imports that leave their package for one not strictly below it, and modules of no layer."""
    problems = []
    for src, targets in sorted(graph.items()):
        here = layer_of(package_of(src), layers)
        if here is None:
            problems.append(f"{src}: package {package_of(src)} is in no layer")
            continue
        for dst in sorted(targets):
            if package_of(dst) == package_of(src):
                continue
            there = layer_of(package_of(dst), layers)
            if there is None or there >= here:
                problems.append(f"{src} imports {dst} (layer {here} -> {there})")
    return problems


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components with more than one module (Tarjan), each sorted."""
    index, low, stack, on_stack, found = {}, {}, [], set(), []

    def visit(v: str) -> None:
        index[v] = low[v] = len(index)
        stack.append(v)
        on_stack.add(v)
        for w in graph.get(v, ()):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            component = []
            while True:
                w = stack.pop()
                on_stack.discard(w)
                component.append(w)
                if w == v:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for v in sorted(graph):
        if v not in index:
            visit(v)
    return found


def test_no_import_from_a_higher_or_sibling_layer():
    assert upward_imports(import_graph(SRC)) == []


def test_no_import_cycles():
    assert cycles(import_graph(SRC)) == []


def test_the_graph_sees_lazy_and_package_imports():
    """Guards the checker itself: a function-level ``from ner.models import hub`` is an edge to the module."""
    graph = import_graph(SRC)
    assert "ner.models.hub" in graph["ner.predictor"]  # imported inside NerPredictor.from_pretrained
    assert "ner.predictor" in graph["ner.training.finetune"]
    assert "ner.data.documents" in graph["ner"]
    assert all(layer_of(package_of(m)) is not None for m in graph)


def test_the_checks_fail_on_an_upward_import_and_a_cycle(tmp_path):
    files = {
        "ner/__init__.py": "",
        "ner/data/__init__.py": "",
        "ner/data/words.py": "def f():\n    from ner.models.encoders import build\n",  # data -> models: upward
        "ner/models/__init__.py": "",
        "ner/models/encoders.py": "from ner.models import losses\n",
        "ner/models/losses.py": "from .encoders import build\n",  # a cycle through a relative import
        "ner/extra.py": "",  # a module in no layer
    }
    for rel, text in files.items():
        (tmp_path / rel).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / rel).write_text(text)
    graph = import_graph(tmp_path)
    assert graph["ner.models.losses"] == {"ner.models.encoders"}
    assert cycles(graph) == [["ner.models.encoders", "ner.models.losses"]]
    assert upward_imports(graph) == ["ner.data.words imports ner.models.encoders (layer 0 -> 1)",
                                     "ner.extra: package ner.extra is in no layer"]


def test_public_api():
    from ner import ENTITY_TYPES, AnnotationError, Document, Entity, NerPredictor, Span  # noqa: F401

    assert ENTITY_TYPES == ("ORG", "PER", "LOC", "MONEY", "CLUSTER")
    assert NerPredictor.__module__ == Entity.__module__ == "ner.predictor"
