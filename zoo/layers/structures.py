"""Nested structures of tensors (dicts, lists, tuples) and layer names."""
import re


def snake_case(name):
    name = re.sub(r"(.)([A-Z][a-z]+)", r"\1_\2", name)
    return re.sub(r"([a-z])([A-Z])", r"\1_\2", name).lower()


def map_structure(fn, structure):
    if isinstance(structure, dict):
        return {k: map_structure(fn, v) for k, v in structure.items()}
    if isinstance(structure, (list, tuple)):
        return type(structure)(map_structure(fn, v) for v in structure)
    return fn(structure)


def flatten(structure):
    if isinstance(structure, dict):
        return [x for k in structure for x in flatten(structure[k])]
    if isinstance(structure, (list, tuple)):
        return [x for v in structure for x in flatten(v)]
    return [structure]
