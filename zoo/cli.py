"""The ``zoo`` command: presets, info, download, convert, upload, run.

Exit codes: 0 success, 1 the command failed (message on stderr; ``--debug`` adds the
traceback), 2 the command line is wrong.
"""
import argparse
import json
import sys
import traceback

EXIT_OK, EXIT_ERROR, EXIT_USAGE = 0, 1, 2


def main(argv=None):
    parser = build_parser()
    try:
        args = parser.parse_args(argv)
    except SystemExit as e:  # argparse: --help exits 0, a bad command line 2
        return e.code if isinstance(e.code, int) else EXIT_USAGE
    if args.command is None:
        parser.print_help(sys.stderr)
        return EXIT_USAGE
    try:
        return args.run(args) or EXIT_OK
    except KeyboardInterrupt:
        print("zoo: interrupted", file=sys.stderr)
        return 130
    except Exception as e:  # noqa: BLE001  (every failure becomes a message and exit code 1)
        if getattr(args, "debug", False):
            traceback.print_exc()
        print(f"zoo {args.command}: error: {e}", file=sys.stderr)
        return EXIT_ERROR


def build_parser():
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("--debug", action="store_true", default=argparse.SUPPRESS,
                        help="print the traceback when a command fails")
    parser = argparse.ArgumentParser(
        prog="zoo", parents=[common],
        description="zoo: presets from the Hugging Face Hub on JAX, PyTorch, TensorFlow, NumPy.",
        epilog="A HANDLE is a registry name or alias (see `zoo presets`), hf://org/repo[@revision], "
               "or a local preset directory. Exit codes: 0 ok, 1 error, 2 usage.")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")

    p = sub.add_parser("presets", parents=[common], help="list the preset registry",
                       description="List every preset of the registry (zoo/presets/*.toml).")
    p.add_argument("--json", action="store_true", help="print JSON instead of a table")
    p.set_defaults(run=cmd_presets)

    p = sub.add_parser("info", parents=[common], help="describe a preset and its cache state",
                       description="Show a preset's registry entry, pinned revision, config, "
                       "parameter count and files, and whether each file is in the local Hugging "
                       "Face cache. Fetches only config.json/metadata.json (a few kB).")
    p.add_argument("handle", metavar="HANDLE")
    p.set_defaults(run=cmd_info)

    p = sub.add_parser("download", parents=[common], help="download a preset into the HF cache",
                       description="Download the files a preset needs into the Hugging Face "
                       "cache and print the local directory.")
    p.add_argument("handle", metavar="HANDLE")
    p.add_argument("--allow-pickle", action="store_true",
                   help="also fetch pytorch_model*.bin when a checkpoint has no safetensors")
    p.set_defaults(run=cmd_download)

    p = sub.add_parser("convert", parents=[common], help="write a preset as a zoo preset",
                       description="Load SRC (a transformers checkpoint or a preset) with "
                       "zoo.Model.from_preset and save it to DST_DIR with save_to_preset.")
    p.add_argument("src", metavar="SRC")
    p.add_argument("dst", metavar="DST_DIR")
    p.add_argument("--allow-pickle", action="store_true",
                   help="read pickle checkpoints (openai-whisper .pt, pytorch_model.bin) with "
                   "torch.load(weights_only=True); only for a source you trust")
    p.set_defaults(run=cmd_convert)

    p = sub.add_parser("upload", parents=[common], help="upload a zoo preset to the Hub",
                       description="Verify a zoo preset directory and upload it, with a "
                       "generated model card, to hf://org/name (needs HF_TOKEN with write access).")
    p.add_argument("directory", metavar="DIR")
    p.add_argument("target", metavar="hf://org/name")
    p.add_argument("--revision", help="branch to commit to (default main)")
    p.add_argument("--private", action="store_true", help="create the repository private")
    p.add_argument("--message", help="commit message")
    p.set_defaults(run=cmd_upload)

    p = sub.add_parser("run", parents=[common], help="run a task pipeline on inputs",
                       description="Run zoo.pipeline(TASK, preset=HANDLE) on each INPUT and print "
                       "the results as JSON.")
    p.add_argument("task", metavar="TASK", help="e.g. fill-mask, text-generation")
    p.add_argument("--preset", required=True, metavar="HANDLE")
    p.add_argument("inputs", nargs="+", metavar="INPUT")
    p.add_argument("-o", "--option", action="append", default=[], metavar="KEY=VALUE",
                   help="a keyword for the pipeline call, repeatable; VALUE is read as JSON "
                   "when it parses (e.g. -o max_new_tokens=16 -o prompt_lookup_num_tokens=10)")
    p.add_argument("--save", metavar="DIR",
                   help="object-detection: also write each image with its boxes and labels "
                   "drawn to DIR (the input's name, as PNG)")
    p.set_defaults(run=cmd_run)
    return parser


def cmd_presets(args):
    import zoo.presets

    if args.json:
        entries = [{"name": e.name, "aliases": list(e.aliases), "class": e.class_name,
                    "hf_repo": e.hf_repo, "revision": e.revision,
                    "source_format": e.source_format, "parameter_count": e.parameter_count,
                    "license": e.license, "pipeline_tag": e.pipeline_tag,
                    "description": e.description} for e in zoo.presets.list()]
        print(json.dumps(entries, indent=2))
    else:
        print(zoo.presets.table())


def cmd_info(args):
    from zoo.hub import download
    from zoo.presets import format_count

    desc = download.describe(args.handle)
    entry, rows = desc.entry, []
    if entry is not None:
        aliases = f" (aliases: {', '.join(entry.aliases)})" if entry.aliases else ""
        rows += [("preset", entry.name + aliases), ("class", entry.class_name)]
    elif desc.config is not None and desc.config.get("class_name"):
        rows.append(("class", desc.config["class_name"]))
    if desc.repo_id:
        rows.append(("repository", f"hf://{desc.repo_id}"))
        rows.append(("revision", desc.revision or "main (not pinned)"))
        rows.append(("commit", desc.commit or "unknown (not resolved)"))
    else:
        rows.append(("directory", desc.handle))
    if entry is not None:
        rows.append(("sha256", entry.sha256 or "not recorded"))
    formats = {"zoo": "zoo preset", "transformers": "transformers checkpoint (converted while loading)"}
    rows.append(("format", formats.get(desc.source_format, desc.source_format or "unknown")))
    count = entry.parameter_count if entry is not None else (desc.metadata or {}).get("parameter_count")
    rows.append(("parameters", f"{count:,} ({format_count(count)})" if isinstance(count, int) else "unknown"))
    if entry is not None:
        rows += [("license", entry.license), ("description", entry.description)]
    width = max(len(k) for k, _ in rows)
    for key, value in rows:
        print(f"{key.ljust(width)}  {value}")
    if desc.config is not None:
        print("config")
        print("  " + json.dumps(desc.config, indent=2, sort_keys=True).replace("\n", "\n  "))
    if desc.files:
        print("files")
        name_width = max(len(f[0]) for f in desc.files)
        for name, size, path in desc.files:
            state = ("local" if desc.repo_id is None else "cached") if path else "not cached"
            size_text = _bytes(size) if size is not None else ""
            print(f"  {name.ljust(name_width)}  {state.ljust(10)}  {size_text}".rstrip())
    known = entry is not None or desc.config is not None
    if desc.problem and known:
        print(f"note: {desc.problem}")
    elif not known:
        print(f"zoo info: error: {desc.problem or 'no config.json found'}", file=sys.stderr)
    return EXIT_OK if known else EXIT_ERROR


def cmd_download(args):
    from zoo.hub import download

    resolved = download.resolve(args.handle, allow_pickle=args.allow_pickle)
    print(resolved.path)


def cmd_convert(args):
    import zoo

    if not hasattr(zoo.Model, "from_preset") or not hasattr(zoo.Model, "save_to_preset"):
        raise RuntimeError("this zoo has no Model.from_preset / save_to_preset yet")
    model = zoo.Model.from_preset(args.src, allow_pickle=args.allow_pickle)
    model.save_to_preset(args.dst)
    print(args.dst)


def cmd_upload(args):
    from zoo.hub import upload

    info = upload.upload_preset(args.target, args.directory, revision=args.revision,
                                private=args.private, commit_message=args.message)
    print(f"uploaded {len(info.files)} files to hf://{info.repo_id} ({info.revision})")
    print(f"commit  {info.commit}")
    print(f"url     {info.commit_url}")


def cmd_run(args):
    import zoo

    pipeline = getattr(zoo, "pipeline", None)
    if pipeline is None:
        raise RuntimeError("no pipelines yet: this zoo has no zoo.pipeline, so `zoo run` "
                           "cannot run a task")
    if args.save and args.task != "object-detection":
        raise ValueError(f"--save draws detections: it works with object-detection, not "
                         f"{args.task!r}.")
    runner = pipeline(args.task, preset=args.preset)
    options = _pipeline_options(args.task, runner, args.option)
    written = set()
    for text in args.inputs:
        output = runner(text, **options)
        print(json.dumps({"input": text, "output": output}, default=_jsonable))
        if args.save:
            path = _drawn_path(args.save, text, written)
            _save_drawn(text, output, path)
            print(f"saved {path}", file=sys.stderr)


def _drawn_path(directory, source, taken):
    """DIR/<input name>.png, numbered when two inputs share a name."""
    import os

    stem = os.path.splitext(os.path.basename(source))[0] or "image"
    path, i = os.path.join(directory, stem + ".png"), 1
    while path in taken:
        path, i = os.path.join(directory, f"{stem}_{i}.png"), i + 1
    taken.add(path)
    return path


def _save_drawn(source, detections, path):
    """The drawn image written atomically (a temporary file renamed into place)."""
    import os
    import tempfile

    from zoo.pipelines.vision import draw_detections

    os.makedirs(os.path.dirname(path) or ".", exist_ok=True)
    image = draw_detections(source, detections)
    handle, partial = tempfile.mkstemp(suffix=".png", dir=os.path.dirname(path) or ".")
    try:
        with os.fdopen(handle, "wb") as f:
            image.save(f, format="PNG")
        umask = os.umask(0)
        os.umask(umask)
        os.chmod(partial, 0o666 & ~umask)  # mkstemp makes it private
        os.replace(partial, path)
    except BaseException:
        os.unlink(partial)
        raise


def _pipeline_options(task, runner, pairs):
    """``["k=v", ...]`` -> {k: v} (v read as JSON when it parses), checked against the
    keywords the pipeline's ``run_batch`` takes."""
    import inspect

    if not pairs:
        return {}
    known = [name for name, p in inspect.signature(runner.run_batch).parameters.items()
             if name != "items" and p.kind is p.POSITIONAL_OR_KEYWORD]
    options = {}
    for pair in pairs:
        key, sep, text = pair.partition("=")
        if not sep or not key:
            raise ValueError(f"zoo run: --option takes KEY=VALUE, got {pair!r}.")
        if key not in known:
            raise ValueError(f"zoo run {task}: unknown option {key!r}; this pipeline takes "
                             f"{', '.join(known) or 'no options'}.")
        try:
            options[key] = json.loads(text)
        except json.JSONDecodeError:
            options[key] = text
    return options


def _jsonable(value):
    if hasattr(value, "tolist"):
        return value.tolist()
    return str(value)


def _bytes(n):
    for unit in ("B", "kB", "MB", "GB"):
        if n < 1000 or unit == "GB":
            return f"{n:.0f} {unit}" if unit == "B" else f"{n:.1f} {unit}"
        n /= 1000


if __name__ == "__main__":
    sys.exit(main())
