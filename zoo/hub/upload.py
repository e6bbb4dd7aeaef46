"""Upload a zoo preset directory to the Hugging Face Hub (``zoo upload``, scripts/upload_preset.py).

The directory is verified first (metadata.json and every listed file's sha256), the
repository is created if needed, and one commit uploads exactly the preset's files plus a
generated model card as README.md (a README.md already in the directory is kept as is).
"""
import dataclasses
import os

from zoo.hub import handles


class PresetUploadError(OSError):
    """The upload was refused (bad preset, no permission, hub error)."""


@dataclasses.dataclass(frozen=True)
class UploadInfo:
    repo_id: str
    revision: str             # the branch committed to
    commit: str               # the commit oid the Hub returned
    commit_url: str
    metadata_sha256: str      # sha256 of metadata.json: pins every file of the preset
    files: tuple              # the paths committed

    @property
    def handle(self):
        return f"hf://{self.repo_id}@{self.commit}"


def upload_preset(handle, directory, revision=None, private=False, commit_message=None,
                  entry=None, token=None):
    """Upload the zoo preset in ``directory`` to ``handle`` ("hf://org/name[@branch]").

    ``entry`` (a registry PresetEntry) fills the card's description, license and tags.
    ``token`` defaults to huggingface_hub's (HF_TOKEN or the saved login).
    Returns UploadInfo with the commit the Hub returned.
    """
    repo_id, revision = _target(handle, revision)
    directory = os.fspath(directory)
    files = verify_directory(directory)
    from huggingface_hub import CommitOperationAdd, HfApi, errors as hf_errors
    from zoo.hub import download, model_cards

    operations = [CommitOperationAdd(path_in_repo=name, path_or_fileobj=os.path.join(
        directory, *name.split("/"))) for name in files]
    if "README.md" not in files:
        card = model_cards.render_preset_card(directory, repo_id, entry=entry)
        operations.append(CommitOperationAdd(path_in_repo="README.md",
                                              path_or_fileobj=card.encode("utf-8")))
    api = HfApi(token=token, library_name="zoo")
    message = commit_message or f"Upload zoo preset ({len(files)} files)"
    try:
        api.create_repo(repo_id, private=private, exist_ok=True)
        if revision != "main":
            api.create_branch(repo_id, branch=revision, exist_ok=True)
        commit = api.create_commit(repo_id, operations=operations, commit_message=message,
                                   revision=revision)
    except (hf_errors.HfHubHTTPError, RuntimeError) as e:
        # huggingface_hub wraps a failed LFS transfer in RuntimeError("... '<file>' ...")
        http = e if isinstance(e, hf_errors.HfHubHTTPError) else e.__cause__
        if not isinstance(http, hf_errors.HfHubHTTPError):
            raise
        status = getattr(http.response, "status_code", None)
        hint = (" (set HF_TOKEN to a token with write access)" if status in (401, 403) else "")
        what = "" if http is e else f"{str(e).splitlines()[0]} "
        raise PresetUploadError(f"Uploading {directory} to {handle} failed{hint}: {what}"
                                f"{str(http).splitlines()[0]}") from None
    return UploadInfo(repo_id=repo_id, revision=revision, commit=commit.oid,
                      commit_url=commit.commit_url,
                      metadata_sha256=download.sha256_file(os.path.join(directory, "metadata.json")),
                      files=tuple(op.path_in_repo for op in operations))


def _target(handle, revision):
    if not isinstance(handle, str) or not handle.startswith(handles.HF_PREFIX):
        raise ValueError(f"Upload target '{handle}' must be written hf://org/name")
    repo_id, handle_revision = handles.parse_hf(handle)
    if revision is not None:
        handles.validate_revision(revision)
    if handle_revision and revision and handle_revision != revision:
        raise ValueError(f"Upload target '{handle}' names revision '{handle_revision}' but "
                         f"revision='{revision}' was passed")
    return repo_id, revision or handle_revision or "main"


def verify_directory(directory):
    """Check ``directory`` is a complete, uncorrupted zoo preset; return the files to upload
    (metadata.json plus every file it lists, and README.md if present)."""
    if not os.path.isdir(directory):
        raise ValueError(f"Preset directory '{directory}' does not exist")
    if not os.path.isfile(os.path.join(directory, "metadata.json")):
        raise ValueError(f"'{directory}' is not a zoo preset: it has no metadata.json "
                         "(write one with model.save_to_preset)")
    metadata = _verify_checksums(directory)
    listed = set(metadata["files"]) | {"metadata.json"}
    present = set(_walk(directory))
    extra = sorted(present - listed - {"README.md"})
    if extra:
        raise ValueError(f"Preset directory '{directory}' holds files metadata.json does not "
                         f"list: {extra}; save the preset again or remove them")
    return sorted(listed) + (["README.md"] if "README.md" in present else [])


def _verify_checksums(directory):
    """H1's zoo.hub.preset_format.verify_preset: metadata.json valid, every sha256 matches."""
    from zoo.hub import preset_format

    try:
        return preset_format.verify_preset(directory)
    except preset_format.PresetError as e:
        raise ValueError(f"Not uploading '{directory}': {e}") from None


def _walk(directory):
    for root, dirs, names in os.walk(directory):
        dirs[:] = [d for d in dirs if not d.startswith(".")]
        for name in names:
            if not name.startswith("."):
                yield os.path.relpath(os.path.join(root, name), directory).replace(os.sep, "/")
