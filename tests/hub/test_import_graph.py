"""The import graph of zoo/ points down: no cycle between zoo's subpackages at module level,
engine does not import the hub, the hub imports no engine Model (it dispatches on what the
classes declare) and no architecture (they register themselves when zoo.models is imported).
Read from the source with ast, so it holds whatever a test run happened to import."""
import ast
import os

import pytest

import zoo

pytestmark = pytest.mark.backend_independent

ROOT = os.path.dirname(os.path.abspath(zoo.__file__))


def _modules():
    """{dotted module name: (path, is_package)} of every file under zoo/."""
    found = {}
    for directory, _, files in os.walk(ROOT):
        for name in files:
            if name.endswith(".py"):
                path = os.path.join(directory, name)
                rel = os.path.relpath(path, os.path.dirname(ROOT))[:-3].replace(os.sep, ".")
                package = rel.endswith(".__init__")
                found[rel[:-len(".__init__")] if package else rel] = (path, package)
    return found


def _imports(module, path, is_package, top_level_only):
    """Modules ``module`` imports: at module level (also under a top-level if/try), or
    anywhere in the file."""
    tree = ast.parse(open(path, encoding="utf-8").read(), path)
    nodes = []

    def visit(body):
        for node in body:
            if isinstance(node, (ast.Import, ast.ImportFrom)):
                nodes.append(node)
            elif isinstance(node, (ast.If, ast.Try)):
                visit(node.body)
                visit(node.orelse)
                for handler in getattr(node, "handlers", []):
                    visit(handler.body)
                visit(getattr(node, "finalbody", []))

    if top_level_only:
        visit(tree.body)
    else:
        nodes = [n for n in ast.walk(tree) if isinstance(n, (ast.Import, ast.ImportFrom))]
    names = []
    for node in nodes:
        if isinstance(node, ast.Import):
            names.extend(alias.name for alias in node.names)
            continue
        base = node.module or ""
        if node.level:
            parts = module.split(".") if is_package else module.split(".")[:-1]
            parts = parts[:len(parts) - node.level + 1]
            base = ".".join(parts + ([base] if base else []))
        names.append(base)
        names.extend(f"{base}.{alias.name}" for alias in node.names)
    return [n for n in names if n == "zoo" or n.startswith("zoo.")]


def _subpackage(module):
    parts = module.split(".")
    return parts[1] if len(parts) > 1 else None


def _package_graph():
    """{subpackage: {subpackage it imports at module level: [(module, imported)]}}."""
    graph = {}
    for module, (path, is_package) in _modules().items():
        source = _subpackage(module)
        for imported in _imports(module, path, is_package, top_level_only=True):
            target = _subpackage(imported)
            if source and target and target != source:
                graph.setdefault(source, {}).setdefault(target, []).append((module, imported))
    return graph


def _cycles(graph):
    """Strongly connected components of more than one node (Tarjan)."""
    index, low, stack, on_stack, found = {}, {}, [], set(), []

    def visit(node):
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for succ in graph.get(node, {}):
            if succ not in index:
                visit(succ)
                low[node] = min(low[node], low[succ])
            elif succ in on_stack:
                low[node] = min(low[node], index[succ])
        if low[node] == index[node]:
            component = []
            while True:
                member = stack.pop()
                on_stack.discard(member)
                component.append(member)
                if member == node:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for node in sorted(graph):
        if node not in index:
            visit(node)
    return found


def test_no_cycle_between_zoo_subpackages():
    graph = _package_graph()
    assert {"hub", "models", "engine"} <= set(graph)
    cycles = _cycles(graph)
    detail = {tuple(c): {a: {b: graph[a][b][:2] for b in graph[a] if b in c} for a in c}
              for c in cycles}
    assert not cycles, f"import cycles between zoo subpackages: {detail}"


def test_the_graph_sees_a_planted_cycle():
    graph = {"a": {"b": []}, "b": {"c": []}, "c": {"a": []}, "d": {"a": []}}
    assert _cycles(graph) == [["a", "b", "c"]]


def test_engine_hub_and_models_import_in_one_direction():
    modules = _modules()
    for module, (path, is_package) in modules.items():
        top = _imports(module, path, is_package, top_level_only=True)
        anywhere = _imports(module, path, is_package, top_level_only=False)
        package = _subpackage(module)
        if package == "engine":
            assert not any(_subpackage(n) == "hub" for n in top), \
                f"{module} imports zoo.hub at module level"
        if package == "hub":
            assert not any(_subpackage(n) == "engine" for n in anywhere), \
                f"{module} imports zoo.engine (the hub dispatches on preset_role)"
            assert not any(_subpackage(n) == "models" for n in top), \
                f"{module} imports zoo.models at module level"
            assert all(n == "zoo.models" for n in anywhere if _subpackage(n) == "models"), \
                f"{module} imports an architecture by name; import zoo.models to register them"
