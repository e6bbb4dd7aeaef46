"""Resolve a preset handle to a local directory, downloading through ``huggingface_hub``.

Downloads use huggingface_hub's own cache (``HF_HUB_CACHE``), ``HF_HUB_OFFLINE``,
``HF_TOKEN`` and progress bars, and fetch only the files the preset needs:

- a zoo preset (``metadata.json`` present): config.json, metadata.json and exactly the
  files metadata.json lists;
- a repository a registered loader reads (another ecosystem: CTranslate2, ultralytics):
  the files its ``remote_files(listing)`` names;
- a transformers checkpoint: config.json, top-level ``*.safetensors`` (+ index) and the
  files its architecture's preprocessing components are made from (their
  ``checkpoint_files``: vocab.txt, tokenizer.json, ...). Pickle weights (``pytorch_model*.bin``) only with ``allow_pickle=True``
  and only when the repository has no safetensors; ``.h5``/``.msgpack``/``.onnx`` never.
"""
import dataclasses
import hashlib
import json
import os

import huggingface_hub
from huggingface_hub import constants, errors as hf_errors

from zoo.hub import handles

class PresetDownloadError(OSError):
    """The repository, revision or a file is missing, or the Hub refused the request."""


class HubUnreachableError(PresetDownloadError):
    """The Hub cannot be reached (or HF_HUB_OFFLINE is set) and the files are not cached."""


class PickleNotAllowedError(PresetDownloadError):
    """The checkpoint only has pickle weights and the caller did not pass allow_pickle=True."""


@dataclasses.dataclass(frozen=True)
class ResolvedPreset:
    path: str                 # local directory holding the preset's files
    handle: str               # what the caller passed
    repo_id: str = None       # "org/name" (None for a local directory)
    revision: str = None      # the pinned revision asked for; None when unknown / "main"
    commit: str = None        # the commit the files came from (None for a local directory)
    entry: object = None      # the registry PresetEntry, or None
    source_format: str = None  # "zoo", "transformers", or None when neither
    files: tuple = ()         # the files fetched, relative to path


def resolve(handle, allow_pickle=False):
    """Return a ResolvedPreset whose ``.path`` holds the files ``handle`` needs."""
    parsed = handles.parse(handle)
    if parsed.kind == "local":
        return ResolvedPreset(path=parsed.path, handle=parsed.text,
                              source_format=detect_format(parsed.path),
                              files=tuple(_walk(parsed.path)))
    entry, repo_id, revision = _target(parsed)
    filename = _file_of(parsed, entry)
    if filename is not None:
        resolved = fetch_file(repo_id, revision, filename, parsed.text)
        return dataclasses.replace(resolved, entry=entry)
    folder, commit, files, source_format = fetch(repo_id, revision, parsed.text, allow_pickle)
    if entry is not None and entry.sha256:
        verify_registry_sha256(folder, entry)
    return ResolvedPreset(path=folder, handle=parsed.text, repo_id=repo_id,
                          revision=revision, commit=commit, entry=entry,
                          source_format=source_format, files=tuple(files))


def _target(parsed):
    """(registry entry or None, repo_id, revision or None) of a parsed non-local handle."""
    if parsed.kind == "registry":
        import zoo.presets

        entry = zoo.presets.get(parsed.name)
        return entry, entry.hf_repo, entry.revision
    revision = None if parsed.revision in (None, constants.DEFAULT_REVISION) else parsed.revision
    return None, parsed.repo_id, revision


def _file_of(parsed, entry):
    """The single file inside the repository a handle names (hf://org/repo/file.pt, or a
    registry entry's ``hf_file``), else None."""
    if parsed.filename is not None:
        return parsed.filename
    return entry.hf_file if entry is not None else None


def fetch(repo_id, revision, handle, allow_pickle=False):
    """Download what the preset at ``repo_id@revision`` needs.

    Returns (snapshot folder, commit, needed files, source format).
    """
    # 1. The two small files that say what kind of preset this is (and pin the commit).
    folder = _snapshot(repo_id, revision, ["config.json", "metadata.json"], handle)
    commit = os.path.basename(os.path.normpath(folder))
    listing, complete = repo_listing(repo_id, commit, folder)
    where = f"{repo_id} (commit {commit})"
    claimed = None if "metadata.json" in listing else claimed_files(listing, allow_pickle)
    if claimed is None and "config.json" not in listing:
        if not complete:
            raise HubUnreachableError(unreachable_message(handle, f"config.json of {where}"))
        raise PresetDownloadError(f"{handle}: {where} has no config.json; it is neither a "
                                  "zoo preset nor a transformers checkpoint (and no "
                                  "registered loader reads its files)")
    if claimed is not None:
        needed, source_format = claimed
    elif "metadata.json" in listing:
        needed, source_format = zoo_preset_files(folder, handle), "zoo"
    else:
        needed = transformers_files(listing, handle, allow_pickle, _model_type(folder))
        source_format = "transformers"
    absent = [f for f in needed if f not in listing]
    if absent and complete:
        raise PresetDownloadError(f"{handle}: metadata.json lists {absent}, which {where} "
                                  "does not have")
    # 2. Exactly those files, at the commit step 1 resolved (the same snapshot folder).
    # Without a cached listing step 1 did not reach the Hub: stay local (no retries).
    try:
        _snapshot(repo_id, commit, [_escape_pattern(f) for f in needed], handle,
                  local_only=not complete)
    except HubUnreachableError:
        pass  # some files are not cached: say which below
    missing = [f for f in needed if not os.path.isfile(os.path.join(folder, *f.split("/")))]
    if missing:
        raise HubUnreachableError(unreachable_message(
            handle, f"{missing} of {where}", incomplete=True))
    return folder, commit, needed, source_format


def fetch_file(repo_id, revision, filename, handle):
    """``hf://org/repo/file.pt``: that one file (a single-file checkpoint a registered loader
    reads); the ResolvedPreset's ``path`` is the file."""
    folder = _snapshot(repo_id, revision, [_escape_pattern(filename)], handle)
    commit = os.path.basename(os.path.normpath(folder))
    path = os.path.join(folder, *filename.split("/"))
    if not os.path.isfile(path):
        listing, complete = repo_listing(repo_id, commit, folder)
        if not complete:
            raise HubUnreachableError(unreachable_message(
                handle, f"{filename} of {repo_id} (commit {commit})"))
        near = sorted(f for f in listing if f.endswith(handles.SINGLE_FILE_SUFFIXES))[:8]
        raise PresetDownloadError(f"{handle}: {repo_id} (commit {commit}) has no file "
                                  f"{filename!r}" + (f"; its checkpoint files: {near}"
                                                     if near else ""))
    return ResolvedPreset(path=path, handle=handle, repo_id=repo_id, revision=revision,
                          commit=commit, files=(filename,))


def zoo_preset_files(folder, handle):
    """config.json, metadata.json and every file metadata.json lists (paths validated)."""
    path = os.path.join(folder, "metadata.json")
    try:
        with open(path, encoding="utf-8") as f:
            metadata = json.load(f)
    except (OSError, ValueError) as e:
        raise PresetDownloadError(f"{handle}: cannot read metadata.json ({e})") from None
    files = metadata.get("files") if isinstance(metadata, dict) else None
    if not isinstance(files, dict):
        raise PresetDownloadError(f"{handle}: metadata.json has no 'files' table of checksums")
    needed = ["config.json", "metadata.json"]
    for name in files:
        handles.validate_relative_path(name, f"{handle}: metadata.json")
        if name not in needed:
            needed.append(name)
    return needed


def claimed_files(listing, allow_pickle=False):
    """(files, kind) when a loader an architecture registered (zoo/hub/loaders/registry.py)
    reads a repository with these files, else None."""
    from zoo.hub.loaders import registry

    for loader_cls in registry.registered_loaders():
        files = loader_cls.remote_files(listing, allow_pickle)
        if files:
            return list(files), loader_cls.kind
    return None


def _model_type(folder):
    config = _read_json(os.path.join(folder, "config.json"))
    return config.get("model_type") if isinstance(config, dict) else None


def transformers_files(listing, handle, allow_pickle=False, model_type=None):
    """The files of a transformers checkpoint zoo can use (top-level only): weights, and
    the files the preprocessing components of ``model_type``'s architecture are made from."""
    top = [f for f in listing if "/" not in f]
    weights = [f for f in top if f.endswith((".safetensors", ".safetensors.index.json"))]
    pickles = [f for f in top if f.startswith("pytorch_model") and
               f.endswith((".bin", ".bin.index.json"))]
    if not weights and pickles:
        if not allow_pickle:
            raise PickleNotAllowedError(
                f"{handle}: the checkpoint has no safetensors weights, only pickle files "
                f"{sorted(pickles)}. zoo never unpickles a download by default; a conversion "
                "script may opt in with allow_pickle=True (loaded with torch weights_only).")
        weights = pickles
    from zoo.hub import converters

    component_files = converters.checkpoint_files(model_type)
    return ["config.json"] + sorted(weights) + [f for f in top if f in component_files]


def repo_listing(repo_id, commit, folder):
    """(files, complete): every file of the repo at ``commit`` from the tree listing
    huggingface_hub cached while resolving it (complete), or, for a cache without one
    (offline), the files present in the snapshot folder (maybe incomplete)."""
    try:
        tree = huggingface_hub.get_cached_repo_tree(repo_id, revision=commit)
        return [f.path for f in tree], True
    except hf_errors.CachedRepoTreeNotFoundError:
        return list(_walk(folder)), False


def _snapshot(repo_id, revision, patterns, handle, local_only=False):
    """snapshot_download with huggingface_hub's errors turned into ones that say what to do."""
    from zoo import __version__

    where = f"{repo_id}" + (f"@{revision}" if revision else "")
    try:
        return huggingface_hub.snapshot_download(
            repo_id, revision=revision, allow_patterns=patterns, local_files_only=local_only,
            library_name="zoo", library_version=__version__)
    except hf_errors.GatedRepoError:
        raise PresetDownloadError(
            f"{handle}: {repo_id} is gated; accept its terms on the Hub and set HF_TOKEN") from None
    except hf_errors.RepositoryNotFoundError:
        raise PresetDownloadError(
            f"{handle}: repository {repo_id} not found on {constants.ENDPOINT} (if it is "
            "private, set HF_TOKEN to a token that can read it)") from None
    except hf_errors.RevisionNotFoundError:
        raise PresetDownloadError(
            f"{handle}: revision '{revision}' not found in {repo_id}") from None
    except hf_errors.RemoteEntryNotFoundError as e:
        raise PresetDownloadError(f"{handle}: a file is missing from {where}: {e}") from None
    except hf_errors.LocalEntryNotFoundError as e:
        incomplete = isinstance(e, hf_errors.IncompleteSnapshotError)
        raise HubUnreachableError(unreachable_message(handle, where, incomplete)) from None
    except hf_errors.HfHubHTTPError as e:
        raise PresetDownloadError(f"{handle}: the Hub refused the download of {where}: {e}") from None


def unreachable_message(handle, where, incomplete=False):
    offline = constants.is_offline_mode()
    reason = ("HF_HUB_OFFLINE=1 is set" if offline else
              f"the Hugging Face Hub at {constants.ENDPOINT} cannot be reached")
    advice = ("unset HF_HUB_OFFLINE (or set it to 0) to download it" if offline else
              "connect to the network (or check HF_ENDPOINT), or copy a populated cache there "
              "and set HF_HUB_OFFLINE=1 to use it offline")
    detail = " (the cached snapshot is incomplete)" if incomplete else ""
    return (f"{handle}: {reason} and {where} is not in the local cache "
            f"{constants.HF_HUB_CACHE} (HF_HUB_CACHE){detail}. To fix: {advice}.")


def verify_registry_sha256(folder, entry):
    """A registry entry's sha256 pins metadata.json (which pins every other file)."""
    got = sha256_file(os.path.join(folder, "metadata.json"))
    if got != entry.sha256:
        raise PresetDownloadError(
            f"{entry.name}: metadata.json has sha256 {got}, but the registry ({entry.file}) "
            f"records {entry.sha256}; the download does not match the registered preset")


def sha256_file(path, chunk=1 << 20):
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(chunk), b""):
            digest.update(block)
    return digest.hexdigest()


def detect_format(directory):
    """"zoo" (metadata.json), "transformers" (config.json with model_type) or None."""
    if os.path.isfile(os.path.join(directory, "metadata.json")):
        return "zoo"
    try:
        with open(os.path.join(directory, "config.json"), encoding="utf-8") as f:
            config = json.load(f)
    except (OSError, ValueError):
        return None
    return "transformers" if isinstance(config, dict) and "model_type" in config else None


def _walk(folder):
    for root, dirs, names in os.walk(folder):
        dirs[:] = sorted(d for d in dirs if not d.startswith("."))
        for name in sorted(names):
            rel = os.path.relpath(os.path.join(root, name), folder)
            yield rel.replace(os.sep, "/")


def _escape_pattern(name):
    """An fnmatch pattern matching exactly ``name`` (huggingface_hub filters with fnmatch)."""
    return "".join(f"[{c}]" if c in "*?[" else c for c in name)


@dataclasses.dataclass
class PresetDescription:
    """What ``zoo info`` shows: registry entry, pinning, config, and the files the preset
    needs with their local cache state (path or None)."""
    handle: str
    entry: object = None
    repo_id: str = None
    revision: str = None
    commit: str = None
    source_format: str = None
    config: dict = None
    metadata: dict = None
    files: list = dataclasses.field(default_factory=list)  # (name, size or None, local path or None)
    problem: str = None       # why the description is incomplete (e.g. offline, not cached)


def describe(handle):
    """Describe a preset without downloading its weights (config.json and metadata.json,
    a few kB, are fetched into the Hub cache when they are not there yet)."""
    from huggingface_hub import try_to_load_from_cache

    parsed = handles.parse(handle)
    if parsed.kind == "local":
        desc = PresetDescription(parsed.text, source_format=detect_format(parsed.path))
        desc.config, desc.metadata = (_read_json(os.path.join(parsed.path, n))
                                      for n in ("config.json", "metadata.json"))
        desc.files = [(f, os.path.getsize(os.path.join(parsed.path, f)),
                       os.path.join(parsed.path, f)) for f in _walk(parsed.path)]
        return desc
    entry, repo_id, revision = _target(parsed)
    desc = PresetDescription(parsed.text, entry=entry, repo_id=repo_id, revision=revision,
                             source_format=entry.source_format if entry is not None else None)
    if _file_of(parsed, entry) is not None:  # hf://org/repo/file.pt: that file, not downloaded
        return _describe_file(desc, _file_of(parsed, entry))
    try:
        folder = _snapshot(repo_id, revision, ["config.json", "metadata.json"], parsed.text)
    except PresetDownloadError as e:
        desc.problem = str(e)
        return desc
    desc.commit = os.path.basename(os.path.normpath(folder))
    desc.config, desc.metadata = (_read_json(os.path.join(folder, n))
                                  for n in ("config.json", "metadata.json"))
    sizes = {}
    try:
        sizes = {f.path: f.size for f in
                 huggingface_hub.get_cached_repo_tree(repo_id, revision=desc.commit)}
        listing = list(sizes)
    except hf_errors.CachedRepoTreeNotFoundError:
        listing = list(_walk(folder))
        desc.problem = "no file listing is cached for this commit: files shown are the cached ones"
    claimed = None if desc.metadata is not None else claimed_files(listing, True)
    if desc.metadata is not None:
        desc.source_format = "zoo"
        needed = zoo_preset_files(folder, parsed.text)
    elif claimed is not None:
        needed, desc.source_format = claimed
    else:
        desc.source_format = "transformers" if desc.config is not None else None
        model_type = desc.config.get("model_type") if isinstance(desc.config, dict) else None
        needed = transformers_files(listing, parsed.text, allow_pickle=True,
                                    model_type=model_type)
    for name in needed:
        cached = try_to_load_from_cache(repo_id, name, revision=desc.commit)
        desc.files.append((name, sizes.get(name), cached if isinstance(cached, str) else None))
    return desc


def _describe_file(desc, filename):
    """The description of a single-file handle: its size and cache state (the repository's
    listing is fetched as describe() fetches it; the file itself is not)."""
    from huggingface_hub import try_to_load_from_cache

    try:
        folder = _snapshot(desc.repo_id, desc.revision, ["config.json", "metadata.json"],
                           desc.handle)
    except PresetDownloadError as e:
        desc.problem = str(e)
        return desc
    desc.commit = os.path.basename(os.path.normpath(folder))
    try:
        sizes = {f.path: getattr(f, "size", None) for f in
                 huggingface_hub.get_cached_repo_tree(desc.repo_id, revision=desc.commit)}
        if filename not in sizes:
            desc.problem = f"{desc.repo_id} (commit {desc.commit}) has no file {filename!r}"
    except hf_errors.CachedRepoTreeNotFoundError:
        sizes = {}
        desc.problem = "no file listing is cached for this commit"
    cached = try_to_load_from_cache(desc.repo_id, filename, revision=desc.commit)
    desc.files = [(filename, sizes.get(filename), cached if isinstance(cached, str) else None)]
    return desc


def _read_json(path):
    try:
        with open(path, encoding="utf-8") as f:
            return json.load(f)
    except (OSError, ValueError):
        return None
