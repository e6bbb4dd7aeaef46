"""Make tokenizers/whisper/{gpt2,multilingual}/{vocab.json,merges.txt} from openai-whisper's
tiktoken vocabularies (gpt2.tiktoken, multilingual.tiktoken; MIT, Copyright (c) 2022 OpenAI).

    python tokenizers/prepare_whisper.py                 # from the installed openai-whisper
    python tokenizers/prepare_whisper.py --assets DIR    # a folder holding the .tiktoken files
    python tokenizers/prepare_whisper.py --sdist openai_whisper-20250625.tar.gz
    python tokenizers/prepare_whisper.py --check         # the committed files are up to date

A .tiktoken file lists "base64(token bytes) rank" lines: the 256 single bytes, then one token
per merge in merge order (the multilingual file ends with an empty token). tiktoken merges by
rank; a BPE merges file needs each token's pair, which is recovered by running rank-ordered
BPE on the token's bytes with only the lower ranks allowed: the two parts it stops at are the
pair (the conversion transformers 4.x used, convert_openai_to_hf.py; the English result equals
the merges of the published tiny.en tokenizer.json). Tokens are written in GPT-2's byte-to-
unicode form, as vocab.json/merges.txt files of transformers checkpoints are. The special
tokens are not written: zoo's WhisperTokenizer appends its layout after the BPE tokens.

Standard library only; no zoo, tiktoken or openai-whisper import (their files are read).
"""
import argparse
import base64
import importlib.util
import io
import json
import os
import sys
import tarfile

HERE = os.path.dirname(os.path.abspath(__file__))
NAMES = ("gpt2", "multilingual")


def bytes_to_unicode():
    """GPT-2's map of the 256 bytes to printable characters (printable bytes map to
    themselves, the others to U+0100 and up, in byte order)."""
    keep = (list(range(ord("!"), ord("~") + 1)) + list(range(ord("¡"), ord("¬") + 1))
            + list(range(ord("®"), ord("ÿ") + 1)))
    table, extra = {}, 0
    for b in range(256):
        if b in keep:
            table[b] = chr(b)
        else:
            table[b] = chr(256 + extra)
            extra += 1
    return table


def read_tiktoken(text, where):
    """The lines of a .tiktoken file -> {token bytes: rank}, checked."""
    ranks = {}
    for number, line in enumerate(text.splitlines(), 1):
        if not line.strip():
            continue
        parts = line.split()
        if len(parts) != 2 or not parts[1].isdigit():
            raise ValueError(f"{where}:{number}: expected 'base64-token rank', got {line[:60]!r}")
        ranks[base64.b64decode(parts[0])] = int(parts[1])
    if sorted(ranks.values()) != list(range(len(ranks))):
        raise ValueError(f"{where}: the ranks are not 0..{len(ranks) - 1}, one each.")
    return ranks


def _bpe(ranks, token, limit):
    """Rank-ordered byte-pair merging of ``token`` using only ranks below ``limit``."""
    parts = [bytes([b]) for b in token]
    while len(parts) > 1:
        best = None
        for i in range(len(parts) - 1):
            rank = ranks.get(parts[i] + parts[i + 1])
            if rank is not None and rank < limit and (best is None or rank < best[0]):
                best = (rank, i)
        if best is None:
            break
        i = best[1]
        parts[i:i + 2] = [parts[i] + parts[i + 1]]
    return parts


def convert(ranks, where="tiktoken"):
    """{token bytes: rank} -> (vocab {token string: id}, merges ["a b", ...] in rank order)."""
    table = bytes_to_unicode()

    def text(token):
        return "".join(table[b] for b in token)

    vocab, merges = {}, []
    for token, rank in sorted(ranks.items(), key=lambda item: item[1]):
        vocab[text(token)] = rank
        if len(token) < 2:  # a byte, or the multilingual file's empty token
            continue
        pair = _bpe(ranks, token, rank)
        if len(pair) != 2:
            raise ValueError(f"{where}: token {token!r} (rank {rank}) is not the merge of two "
                             f"lower-ranked tokens.")
        merges.append(f"{text(pair[0])} {text(pair[1])}")
    return vocab, merges


def render(vocab, merges):
    """-> (vocab.json text, merges.txt text), deterministic."""
    vocab_text = json.dumps(vocab, ensure_ascii=False, separators=(",", ":")) + "\n"
    merges_text = "#version: 0.2\n" + "".join(m + "\n" for m in merges)
    return vocab_text, merges_text


def installed_assets():
    spec = importlib.util.find_spec("whisper")  # located, not imported (it imports torch)
    if spec is None or not spec.submodule_search_locations:
        raise SystemExit("openai-whisper is not installed: pass --assets DIR or --sdist FILE.")
    return os.path.join(list(spec.submodule_search_locations)[0], "assets")


def read_sources(args):
    """-> {name: .tiktoken text}."""
    if args.sdist:
        out = {}
        with tarfile.open(args.sdist) as tar:
            for member in tar.getmembers():
                for name in NAMES:
                    if member.name.endswith(f"whisper/assets/{name}.tiktoken"):
                        out[name] = io.TextIOWrapper(tar.extractfile(member), "utf-8").read()
        missing = [n for n in NAMES if n not in out]
        if missing:
            raise SystemExit(f"{args.sdist}: no whisper/assets/{missing[0]}.tiktoken inside.")
        return out
    assets = args.assets or installed_assets()
    out = {}
    for name in NAMES:
        path = os.path.join(assets, f"{name}.tiktoken")
        if not os.path.isfile(path):
            raise SystemExit(f"{path}: not found.")
        with open(path, encoding="utf-8") as f:
            out[name] = f.read()
    return out


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--assets", help="folder with gpt2.tiktoken and multilingual.tiktoken")
    parser.add_argument("--sdist", help="an openai-whisper sdist (.tar.gz) to read them from")
    parser.add_argument("--out", default=os.path.join(HERE, "whisper"))
    parser.add_argument("--check", action="store_true",
                        help="compare with the files in --out instead of writing them")
    args = parser.parse_args(argv)
    stale = []
    for name, source in read_sources(args).items():
        vocab, merges = convert(read_tiktoken(source, f"{name}.tiktoken"), f"{name}.tiktoken")
        directory = os.path.join(args.out, name)
        for filename, content in zip(("vocab.json", "merges.txt"), render(vocab, merges)):
            path = os.path.join(directory, filename)
            if args.check:
                current = open(path, encoding="utf-8").read() if os.path.isfile(path) else None
                if current != content:
                    stale.append(path)
                continue
            os.makedirs(directory, exist_ok=True)
            with open(path, "w", encoding="utf-8", newline="\n") as f:
                f.write(content)
            print(f"wrote {path} ({len(vocab)} tokens, {len(merges)} merges)")
    if stale:
        print("out of date: " + ", ".join(stale), file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
