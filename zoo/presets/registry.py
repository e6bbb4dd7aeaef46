"""The declarative preset registry: one TOML file per model family, one table per preset.

```toml
[bert_base_en_uncased]                 # the preset name
aliases = ["bert_base"]                # optional
class = "BertBackbone"                 # the zoo class the preset builds
hf_repo = "google-bert/bert-base-uncased"
source_format = "transformers"         # "transformers" / "ultralytics" (converted on load) or "zoo"
description = "..."
parameter_count = 109482240
license = "apache-2.0"
pipeline_tag = "fill-mask"
tags = ["bert"]                        # optional
revision = "<40-hex commit>"           # optional: only a commit the Hub really returned
sha256 = "<64-hex>"                    # optional, zoo presets only: sha256 of metadata.json
hf_file = "yolov8n.pt"                 # optional: a single-file checkpoint inside hf_repo
```

A revision or checksum is never invented: without ``revision`` the preset resolves the
repository's ``main`` branch, and ``zoo info`` says so.
"""
import dataclasses
import difflib
import os
import re

try:
    import tomllib
except ModuleNotFoundError:  # Python 3.10
    import tomli as tomllib

REQUIRED_KEYS = ("class", "hf_repo", "source_format", "description", "parameter_count",
                 "license", "pipeline_tag")
OPTIONAL_KEYS = ("aliases", "revision", "sha256", "tags", "hf_file")
SOURCE_FORMATS = ("transformers", "ultralytics", "zoo")

_NAME = re.compile(r"[a-z0-9][a-z0-9_.\-]*\Z")
_COMMIT = re.compile(r"[0-9a-f]{40}\Z")
_SHA256 = re.compile(r"[0-9a-f]{64}\Z")
_IDENTIFIER = re.compile(r"[A-Za-z_][A-Za-z0-9_]*\Z")


class RegistryError(ValueError):
    """A registry TOML file is malformed; the message names the file and the preset."""


class UnknownPresetError(LookupError):
    """No preset has this name or alias; the message suggests the closest names."""


@dataclasses.dataclass(frozen=True)
class PresetEntry:
    name: str
    class_name: str
    hf_repo: str
    source_format: str
    description: str
    parameter_count: int
    license: str
    pipeline_tag: str
    aliases: tuple = ()
    tags: tuple = ()
    revision: str = None
    sha256: str = None
    family: str = ""
    file: str = ""
    hf_file: str = None

    @property
    def handle(self):
        """The Hub handle this entry downloads from (``hf://org/repo[/file][@commit]``)."""
        suffix = f"@{self.revision}" if self.revision else ""
        inside = f"/{self.hf_file}" if self.hf_file else ""
        return f"hf://{self.hf_repo}{inside}{suffix}"


class Registry:
    """All entries of a directory of ``<family>.toml`` files, validated on load."""

    def __init__(self, entries):
        self.entries = tuple(entries)
        self._by_name = {e.name: e for e in self.entries}
        self._aliases = {a: e.name for e in self.entries for a in e.aliases}

    @classmethod
    def load(cls, directory):
        entries, owner = [], {}
        for filename in sorted(os.listdir(directory)):
            if not filename.endswith(".toml"):
                continue
            for entry in parse_file(os.path.join(directory, filename)):
                for key in (entry.name, *entry.aliases):
                    if key in owner:
                        raise RegistryError(
                            f"{entry.file}: preset name or alias '{key}' of [{entry.name}] is already "
                            f"used in {owner[key]}")
                    owner[key] = entry.file
                entries.append(entry)
        return cls(entries)

    def names(self):
        return [e.name for e in self.entries]

    def resolve_alias(self, name):
        if name in self._by_name:
            return name
        if name in self._aliases:
            return self._aliases[name]
        candidates = list(self._by_name) + list(self._aliases)
        close = difflib.get_close_matches(name, candidates, n=3, cutoff=0.5)
        hint = f" Did you mean {', '.join(repr(c) for c in close)}?" if close else ""
        raise UnknownPresetError(
            f"Unknown preset '{name}'.{hint} `zoo presets` lists every preset; a Hugging Face "
            "repository is written hf://org/name, a local preset is a directory path.")

    def get(self, name):
        return self._by_name[self.resolve_alias(name)]


def parse_file(path):
    """Parse and validate one registry file; returns its entries in file order."""
    try:
        with open(path, "rb") as f:
            data = tomllib.load(f)
    except tomllib.TOMLDecodeError as e:
        raise RegistryError(f"{path}: not valid TOML ({e})") from None
    family = os.path.splitext(os.path.basename(path))[0]
    return [_entry(path, family, name, table) for name, table in data.items()]


def _entry(path, family, name, table):
    where = f"{path}: [{name}]"
    if not isinstance(table, dict):
        raise RegistryError(f"{path}: '{name}' must be a table ([{name}]) describing one preset")
    if not _NAME.match(name):
        raise RegistryError(f"{where}: a preset name uses lowercase letters, digits, '_', '.', '-'")
    unknown = sorted(set(table) - set(REQUIRED_KEYS) - set(OPTIONAL_KEYS))
    if unknown:
        raise RegistryError(f"{where}: unknown key(s) {unknown}; allowed: "
                            f"{sorted(REQUIRED_KEYS + OPTIONAL_KEYS)}")
    missing = [k for k in REQUIRED_KEYS if k not in table]
    if missing:
        raise RegistryError(f"{where}: missing key(s) {missing}")
    for key in REQUIRED_KEYS + ("revision", "sha256", "hf_file"):
        if key in table and key != "parameter_count" and not (
                isinstance(table[key], str) and table[key]):
            raise RegistryError(f"{where}: '{key}' must be a non-empty string")
    for key in ("aliases", "tags"):
        value = table.get(key, [])
        if not (isinstance(value, list) and all(isinstance(v, str) and v for v in value)):
            raise RegistryError(f"{where}: '{key}' must be a list of strings")
    for alias in table.get("aliases", []):
        if not _NAME.match(alias):
            raise RegistryError(f"{where}: alias '{alias}' uses characters a name cannot")
    count = table["parameter_count"]
    if isinstance(count, bool) or not isinstance(count, int) or count <= 0:
        raise RegistryError(f"{where}: 'parameter_count' must be a positive integer")
    if not _IDENTIFIER.match(table["class"]):
        raise RegistryError(f"{where}: 'class' must be a class name such as 'BertBackbone'")
    if table["source_format"] not in SOURCE_FORMATS:
        raise RegistryError(f"{where}: 'source_format' must be one of {list(SOURCE_FORMATS)}")
    from zoo.hub import handles

    try:
        handles.parse_repo_id(table["hf_repo"])
    except ValueError as e:
        raise RegistryError(f"{where}: 'hf_repo' {e}") from None
    if "hf_file" in table:
        try:
            handles.parse(f"hf://{table['hf_repo']}/{table['hf_file']}")
        except ValueError as e:
            raise RegistryError(f"{where}: 'hf_file' {e}") from None
        if not table["hf_file"].endswith(handles.SINGLE_FILE_SUFFIXES):
            raise RegistryError(f"{where}: 'hf_file' names a single-file checkpoint ending in "
                                f"{' or '.join(handles.SINGLE_FILE_SUFFIXES)}")
    if "revision" in table and not _COMMIT.match(table["revision"]):
        raise RegistryError(f"{where}: 'revision' must be the full 40-hex commit the Hub returned "
                            "(leave it out when unknown: the preset then resolves 'main')")
    if "sha256" in table:
        if not _SHA256.match(table["sha256"]):
            raise RegistryError(f"{where}: 'sha256' must be 64 lowercase hex digits")
        if table["source_format"] != "zoo":
            raise RegistryError(f"{where}: 'sha256' (of metadata.json) is only meaningful for "
                                "source_format = \"zoo\"")
    return PresetEntry(
        name=name, class_name=table["class"], hf_repo=table["hf_repo"],
        source_format=table["source_format"], description=table["description"],
        parameter_count=count, license=table["license"], pipeline_tag=table["pipeline_tag"],
        aliases=tuple(table.get("aliases", ())), tags=tuple(table.get("tags", ())),
        revision=table.get("revision"), sha256=table.get("sha256"), family=family, file=path,
        hf_file=table.get("hf_file"))


def format_table(entries):
    """A plain-text table of entries (what ``zoo presets`` prints)."""
    rows = [("name", "aliases", "class", "params", "hugging face repo", "revision")]
    for e in entries:
        rows.append((e.name, ",".join(e.aliases) or "-", e.class_name,
                     format_count(e.parameter_count),
                     e.hf_repo + (f"/{e.hf_file}" if e.hf_file else ""),
                     e.revision[:12] if e.revision else "main (not pinned)"))
    widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]))]
    lines = ["  ".join(c.ljust(w) for c, w in zip(r, widths)).rstrip() for r in rows]
    lines.insert(1, "  ".join("-" * w for w in widths))
    return "\n".join(lines)


def format_count(n):
    """109482240 -> '109.5M'."""
    for unit, size in (("B", 10**9), ("M", 10**6), ("K", 10**3)):
        if n >= size:
            return f"{n / size:.1f}{unit}"
    return str(n)


def update_entry(path, name, **values):
    """Set string keys (e.g. revision, sha256) of table ``[name]`` in a registry file in place.

    Edits only the lines of that table (comments elsewhere survive), re-validates the whole
    file, and writes it atomically. Returns the updated entry.
    """
    allowed = set(REQUIRED_KEYS + OPTIONAL_KEYS) - {"parameter_count", "aliases", "tags"}
    bad = sorted(set(values) - allowed)
    if bad:
        raise ValueError(f"update_entry can set string keys only, not {bad}")
    with open(path, encoding="utf-8") as f:
        lines = f.read().splitlines(keepends=True)
    header = re.compile(r"\s*\[\s*(\"?)" + re.escape(name) + r"\1\s*\]\s*(#.*)?$")
    start = next((i for i, line in enumerate(lines) if header.match(line)), None)
    if start is None:
        raise RegistryError(f"{path}: no table [{name}] to update")
    end = next((i for i in range(start + 1, len(lines)) if lines[i].lstrip().startswith("[")),
               len(lines))
    while end > start + 1 and (not lines[end - 1].strip() or lines[end - 1].lstrip().startswith("#")):
        end -= 1
    for key, value in values.items():
        new = f"{key} = {_toml_string(value)}\n"
        found = next((i for i in range(start + 1, end)
                      if re.match(rf"\s*{re.escape(key)}\s*=", lines[i])), None)
        if found is not None:
            lines[found] = new
        else:
            lines.insert(end, new)
            end += 1
    text = "".join(lines)
    tmp = f"{path}.tmp{os.getpid()}"
    with open(tmp, "w", encoding="utf-8") as f:
        f.write(text)
        f.flush()
        os.fsync(f.fileno())
    try:
        parse_file(tmp)
    except RegistryError as e:
        os.remove(tmp)
        raise RegistryError(str(e).replace(tmp, path)) from None
    os.replace(tmp, path)
    return next(e for e in parse_file(path) if e.name == name)


def _toml_string(value):
    escaped = str(value).replace("\\", "\\\\").replace('"', '\\"')
    return f'"{escaped}"'
