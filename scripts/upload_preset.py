"""Upload a zoo preset directory to the Hugging Face Hub, optionally recording it in the registry.

    python scripts/upload_preset.py DIR hf://org/name [--revision BRANCH] [--private]
        [--message TEXT] [--write-registry NAME]

--write-registry NAME updates the registry entry NAME (zoo/presets/<family>.toml) with what
the Hub returned: hf_repo, revision = the commit oid, sha256 = sha256 of metadata.json as
read back from the Hub at that commit, source_format = "zoo"; then rewrites its model card.
Needs HF_TOKEN with write access.
"""
import argparse
import os
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, ROOT)
sys.path.insert(0, os.path.join(ROOT, "scripts"))


def record_in_registry(name, info):
    """Write the uploaded commit and the Hub-confirmed metadata sha256 into entry ``name``."""
    import huggingface_hub

    import zoo.presets
    from zoo.hub import download
    from zoo.presets import registry

    entry = zoo.presets.get(name)
    remote = huggingface_hub.hf_hub_download(info.repo_id, "metadata.json", revision=info.commit)
    sha256 = download.sha256_file(remote)
    if sha256 != info.metadata_sha256:
        raise RuntimeError(f"metadata.json on the Hub at {info.commit} has sha256 {sha256}, "
                           f"the uploaded file {info.metadata_sha256}; registry not updated")
    updated = registry.update_entry(entry.file, entry.name, hf_repo=info.repo_id,
                                    revision=info.commit, sha256=sha256, source_format="zoo")
    zoo.presets.reload()
    return updated


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("directory", metavar="DIR")
    parser.add_argument("target", metavar="hf://org/name")
    parser.add_argument("--revision")
    parser.add_argument("--private", action="store_true")
    parser.add_argument("--message")
    parser.add_argument("--write-registry", metavar="NAME")
    parser.add_argument("--cards-dir", default=os.path.join(ROOT, "model_cards"),
                        help="where --write-registry rewrites the model cards")
    args = parser.parse_args(argv)

    import zoo.presets
    from zoo.hub import upload

    entry = zoo.presets.get(args.write_registry) if args.write_registry else None
    info = upload.upload_preset(args.target, args.directory, revision=args.revision,
                                private=args.private, commit_message=args.message, entry=entry)
    print(f"uploaded {len(info.files)} files to hf://{info.repo_id} ({info.revision})")
    print(f"commit  {info.commit}\nurl     {info.commit_url}")
    if entry is not None:
        updated = record_in_registry(entry.name, info)
        print(f"registry: [{updated.name}] in {updated.file}: revision {updated.revision}, "
              f"sha256 {updated.sha256}")
        import make_model_cards

        make_model_cards.write_cards(args.cards_dir, make_model_cards.expected_cards())
    return 0


if __name__ == "__main__":
    sys.exit(main())
