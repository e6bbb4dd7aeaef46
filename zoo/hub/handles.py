"""Parse preset handles: a registry name or alias, ``hf://org/repo[@revision]``, a local directory.

A single-file checkpoint inside a repository is addressed by its path after the repository:
``hf://org/repo/path/file.pt[@revision]`` (files ending in ``SINGLE_FILE_SUFFIXES`` only, the
formats a registered loader reads from one file, e.g. ultralytics ``.pt``).

Parsing is pure (no network, no registry lookup); every malformed handle raises ValueError
naming the handle.
"""
import dataclasses
import os
import re

HF_PREFIX = "hf://"
_REPO_PART = re.compile(r"[A-Za-z0-9][A-Za-z0-9._\-]*\Z")
_REVISION = re.compile(r"[A-Za-z0-9._\-/]+\Z")
SINGLE_FILE_SUFFIXES = (".pt", ".pth")


@dataclasses.dataclass(frozen=True)
class Handle:
    """kind is "local" (path), "hf" (repo_id, revision; filename for a file inside the
    repository) or "registry" (name)."""
    text: str
    kind: str
    path: str = None
    repo_id: str = None
    revision: str = None
    name: str = None
    filename: str = None


def parse(handle):
    """Classify and validate ``handle`` (a str or os.PathLike)."""
    if isinstance(handle, os.PathLike):
        handle = os.fspath(handle)
    if not isinstance(handle, str) or not handle.strip():
        raise ValueError(f"A preset handle must be a non-empty string, got {handle!r}")
    if handle.startswith(HF_PREFIX):
        filename = None
        body, at, revision = handle[len(HF_PREFIX):].partition("@")
        parts = body.split("/")
        if len(parts) > 2 and body.endswith(SINGLE_FILE_SUFFIXES):
            filename = validate_relative_path("/".join(parts[2:]), f"Preset handle '{handle}'")
            handle_of_repo = HF_PREFIX + "/".join(parts[:2]) + (at + revision if at else "")
            repo_id, revision = parse_hf(handle_of_repo)
        else:
            repo_id, revision = parse_hf(handle)
        return Handle(handle, "hf", repo_id=repo_id, revision=revision, filename=filename)
    if os.path.isdir(handle):
        return Handle(handle, "local", path=os.path.abspath(handle))
    if "://" in handle:
        raise ValueError(f"Preset handle '{handle}': unknown scheme (use hf://org/repo, a "
                         "registry name, or a local directory)")
    if "/" in handle or "\\" in handle or handle.startswith((".", "~")):
        hint = ""
        if re.fullmatch(r"[\w.\-]+/[\w.\-]+", handle):
            hint = f"; for the Hugging Face repository write hf://{handle}"
        raise ValueError(f"Preset handle '{handle}' is not an existing directory{hint}")
    return Handle(handle, "registry", name=handle)


def parse_hf(handle):
    """``hf://org/repo@rev`` -> ("org/repo", "rev" or None)."""
    body = handle[len(HF_PREFIX):]
    repo_text, sep, revision = body.partition("@")
    if sep and not revision:
        raise ValueError(f"Preset handle '{handle}': empty revision after '@'")
    repo_id = parse_repo_id(repo_text, handle)
    return repo_id, (validate_revision(revision, handle) if sep else None)


def parse_repo_id(text, handle=None):
    """Validate ``org/name`` (or a legacy single ``name``) and return it."""
    where = f"Preset handle '{handle}'" if handle else f"'{text}'"
    if "\\" in text:
        raise ValueError(f"{where}: backslashes are not allowed in a repository id")
    if text.startswith("/"):
        raise ValueError(f"{where}: a repository id is org/name, not an absolute path")
    parts = text.split("/")
    if any(p == "" for p in parts):
        raise ValueError(f"{where}: empty path component in repository id '{text}'")
    if any(p in (".", "..") for p in parts):
        raise ValueError(f"{where}: '..' and '.' are not allowed in a repository id")
    if len(parts) > 2:
        raise ValueError(f"{where}: a repository id is org/name; '{text}' has "
                         f"{len(parts)} parts (a file inside a repository is addressed only "
                         f"when it ends in {' or '.join(SINGLE_FILE_SUFFIXES)}: "
                         f"hf://org/name/file.pt)")
    for part in parts:
        if not _REPO_PART.match(part) or ".." in part or "--" in part or len(part) > 96:
            raise ValueError(f"{where}: '{part}' is not a valid repository name part "
                             "(letters, digits, '-', '_', '.'; no '--' or '..')")
    return text


def validate_revision(revision, handle=None):
    """A branch, tag or commit; path-like tricks raise ValueError. 'main' means unpinned."""
    where = f"Preset handle '{handle}'" if handle else f"Revision '{revision}'"
    if "\\" in revision or revision.startswith("/") or revision.endswith("/"):
        raise ValueError(f"{where}: invalid revision '{revision}'")
    parts = revision.split("/")
    if any(p in ("", ".", "..") for p in parts) or ".." in revision:
        raise ValueError(f"{where}: invalid revision '{revision}' ('..' or empty parts)")
    if not _REVISION.match(revision):
        raise ValueError(f"{where}: invalid characters in revision '{revision}'")
    return revision


def validate_relative_path(path, where):
    """A file path inside a preset/repo: relative, '/'-separated, no '..', no empty parts."""
    if not isinstance(path, str) or not path:
        raise ValueError(f"{where}: empty file path")
    if "\\" in path or path.startswith("/") or re.match(r"[A-Za-z]:", path):
        raise ValueError(f"{where}: file path '{path}' must be relative and '/'-separated")
    if any(p in ("", ".", "..") for p in path.split("/")):
        raise ValueError(f"{where}: file path '{path}' has '..', '.' or empty parts")
    return path
