"""The zoo preset directory (format_version 2): file names, metadata, checksums.

    config.json                {"class_name", "config"}   the model (a task nests its backbone)
    metadata.json              {"format": "zoo.preset", "format_version": 2, "zoo_version",
                                "class_name", "parameter_count", "dtype", "source",
                                "files": {relative path: sha256 hex},   (every other file)
                                "components": {kind: {"config": "<kind>.json",
                                                      "assets": "assets/<kind>"}}}
    model.weights.h5           the .weights.h5 format of zoo/saving/weights.py, or shards
                               model.weights-00001-of-0000N.h5 + model.weights.index.json
    <kind>.json                per preprocessing component ("tokenizer", "audio_converter",
                               "image_converter": the component's ``preset_kind``)
                               {"class_name", "config"}; its files in assets/<kind>/
    preprocessor.json          optional {"class_name", "config"} (its own options)

Format 1 had no "components" table: a tokenizer was the only component, as tokenizer.json +
assets/tokenizer/ (``components_of_format_1``); such presets keep loading.

See docs/presets.md. ``Preset`` opens a directory and checks each file against its sha256
before handing out its path.
"""
import re

import hashlib
import json
import os

FORMAT = "zoo.preset"
FORMAT_VERSION = 2

CONFIG = "config.json"
METADATA = "metadata.json"
WEIGHTS = "model.weights.h5"
WEIGHTS_INDEX = "model.weights.index.json"
PREPROCESSOR = "preprocessor.json"
COMPONENTS = "components"
_KIND = re.compile(r"[a-z][a-z0-9_]*\Z")

DEFAULT_MAX_SHARD_SIZE = 2 * 1024**3  # bytes of weights per file before splitting
_HASH_BLOCK = 1 << 20


class PresetError(ValueError):
    """A preset that cannot be used: missing, corrupt or unsafe files (names the file)."""


def shard_name(index, count):
    """``model.weights-00001-of-00003.h5`` (index counts from 1)."""
    return f"model.weights-{index:05d}-of-{count:05d}.h5"


def sha256_file(path):
    """Hex sha256 of a file, read in 1 MiB blocks (never the whole file at once)."""
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(_HASH_BLOCK), b""):
            digest.update(block)
    return digest.hexdigest()


def read_json(path, what=None):
    """Parse a JSON file; errors name it (``what`` says what it is, e.g. the preset)."""
    label = what or path
    if not os.path.isfile(path):
        raise PresetError(f"{label}: file {os.path.basename(path)!r} is missing.")
    try:
        with open(path, encoding="utf-8") as f:
            return json.load(f)
    except (UnicodeDecodeError, json.JSONDecodeError) as error:
        raise PresetError(f"{label}: {os.path.basename(path)!r} is not valid JSON "
                          f"({error}).") from None


def component_layout(kind):
    """The files of a preprocessing component of ``kind`` in a preset:
    {"config": "<kind>.json", "assets": "assets/<kind>"}."""
    if not isinstance(kind, str) or not _KIND.match(kind):
        raise ValueError(f"A preprocessing component's preset_kind must be a lowercase name "
                         f"such as 'tokenizer', got {kind!r}.")
    return {"config": f"{kind}.json", "assets": f"assets/{kind}"}


def components_of_format_1(files):
    """A format-1 preset's components: its tokenizer (tokenizer.json + assets/tokenizer/),
    the only kind there was."""
    return {"tokenizer": component_layout("tokenizer")} if "tokenizer.json" in files else {}


def is_preset_dir(directory):
    return os.path.isfile(os.path.join(directory, METADATA))


def is_transformers_dir(directory):
    """A Hugging Face transformers checkpoint: config.json with model_type, no metadata.json."""
    config = os.path.join(directory, CONFIG)
    if is_preset_dir(directory) or not os.path.isfile(config):
        return False
    try:
        with open(config, encoding="utf-8") as f:
            data = json.load(f)
    except (OSError, ValueError):
        return False
    return isinstance(data, dict) and "model_type" in data


def _safe_relative(name):
    """A path listed in metadata.json must stay inside the preset directory."""
    if not isinstance(name, str) or not name or "\\" in name or name.startswith("/"):
        return False
    parts = name.split("/")
    return all(p not in ("", ".", "..") for p in parts)


class Preset:
    """An opened zoo preset directory. ``path(name)`` verifies a file's sha256 (once) and
    returns its local path; a missing, unlisted or corrupt file raises PresetError."""

    def __init__(self, directory, handle=None):
        self.directory = os.path.abspath(directory)
        self.handle = handle or directory
        self.label = f"preset {self.handle!r}"
        metadata = read_json(os.path.join(self.directory, METADATA), self.label)
        if not isinstance(metadata, dict) or metadata.get("format") != FORMAT:
            raise PresetError(f"{self.label}: {METADATA} does not describe a zoo preset "
                              f"(expected \"format\": \"{FORMAT}\").")
        version = metadata.get("format_version")
        if not isinstance(version, int):
            raise PresetError(f"{self.label}: {METADATA} has no integer format_version.")
        if version > FORMAT_VERSION:
            raise PresetError(
                f"{self.label} uses preset format version {version}, newer than this zoo "
                f"supports ({FORMAT_VERSION}); it was written by zoo "
                f"{metadata.get('zoo_version')}. Upgrade zoo to load it.")
        files = metadata.get("files")
        if not isinstance(files, dict) or CONFIG not in files:
            raise PresetError(f"{self.label}: {METADATA} lists no files (or not {CONFIG}).")
        for name, digest in files.items():
            if not _safe_relative(name) or not isinstance(digest, str) or len(digest) != 64:
                raise PresetError(f"{self.label}: {METADATA} has a bad entry {name!r}: "
                                  f"{digest!r}.")
        self.metadata = metadata
        self.files = files
        self.components = self._components(metadata, version)
        self._verified = set()

    def _components(self, metadata, version):
        """{kind: {"config": file, "assets": directory}} of the preprocessing components."""
        if version < 2:
            return components_of_format_1(self.files)
        table = metadata.get(COMPONENTS, {})
        if not isinstance(table, dict):
            raise PresetError(f"{self.label}: {METADATA} has a bad {COMPONENTS!r} table.")
        for kind, layout in table.items():
            if not (isinstance(kind, str) and _KIND.match(kind) and isinstance(layout, dict)
                    and layout.get("config") in self.files
                    and _safe_relative(layout.get("assets", ""))):
                raise PresetError(f"{self.label}: {METADATA} has a bad component entry "
                                  f"{kind!r}: {layout!r} (its config file must be listed).")
        return table

    def has(self, name):
        return name in self.files

    def path(self, name):
        """Local path of ``name`` after checking it against metadata.json."""
        if name not in self.files:
            raise PresetError(f"{self.label}: {name!r} is not listed in {METADATA}; the "
                              f"preset is incomplete or was modified.")
        full = os.path.join(self.directory, *name.split("/"))
        if name not in self._verified:
            if not os.path.isfile(full):
                raise PresetError(f"{self.label}: file {name!r} is missing (expected at "
                                  f"{full}).")
            actual = sha256_file(full)
            if actual != self.files[name]:
                raise PresetError(
                    f"{self.label}: file {name!r} is corrupt: its sha256 is {actual}, "
                    f"{METADATA} records {self.files[name]}. Download or save it again.")
            self._verified.add(name)
        return full

    def files_under(self, prefix):
        prefix = prefix.rstrip("/") + "/"
        return sorted(name for name in self.files if name.startswith(prefix))

    def verify(self):
        """Check every listed file; return the list of names."""
        for name in self.files:
            self.path(name)
        return sorted(self.files)

    def json(self, name):
        return read_json(self.path(name), self.label)


def verify_preset(directory):
    """Check that ``directory`` is a zoo preset whose files all match metadata.json.
    Returns the metadata; raises PresetError naming the first bad file."""
    preset = Preset(directory)
    preset.verify()
    return preset.metadata
