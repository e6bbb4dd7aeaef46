"""The languages Whisper knows, in the order that defines their token ids.

    LANGUAGES["en"] == "english"; list(LANGUAGES) is the token order: "<|en|>" follows
    "<|startoftranscript|>", then "<|zh|>", ... The first 99 are the original models'
    (tiny .. large-v2); large-v3 adds the 100th, "yue" (cantonese).
    language_code("English") == language_code("en") == "en"; language_code("mandarin") == "zh"

Data from openai-whisper's ``whisper/tokenizer.py`` (LANGUAGES and TO_LANGUAGE_CODE, MIT
license, Copyright (c) 2022 OpenAI); transformers' ``tokenization_whisper.py`` has the same
table.
"""
_TABLE = (
    ("en", "english"), ("zh", "chinese"), ("de", "german"), ("es", "spanish"),
    ("ru", "russian"), ("ko", "korean"), ("fr", "french"), ("ja", "japanese"),
    ("pt", "portuguese"), ("tr", "turkish"), ("pl", "polish"), ("ca", "catalan"),
    ("nl", "dutch"), ("ar", "arabic"), ("sv", "swedish"), ("it", "italian"),
    ("id", "indonesian"), ("hi", "hindi"), ("fi", "finnish"), ("vi", "vietnamese"),
    ("he", "hebrew"), ("uk", "ukrainian"), ("el", "greek"), ("ms", "malay"), ("cs", "czech"),
    ("ro", "romanian"), ("da", "danish"), ("hu", "hungarian"), ("ta", "tamil"),
    ("no", "norwegian"), ("th", "thai"), ("ur", "urdu"), ("hr", "croatian"),
    ("bg", "bulgarian"), ("lt", "lithuanian"), ("la", "latin"), ("mi", "maori"),
    ("ml", "malayalam"), ("cy", "welsh"), ("sk", "slovak"), ("te", "telugu"),
    ("fa", "persian"), ("lv", "latvian"), ("bn", "bengali"), ("sr", "serbian"),
    ("az", "azerbaijani"), ("sl", "slovenian"), ("kn", "kannada"), ("et", "estonian"),
    ("mk", "macedonian"), ("br", "breton"), ("eu", "basque"), ("is", "icelandic"),
    ("hy", "armenian"), ("ne", "nepali"), ("mn", "mongolian"), ("bs", "bosnian"),
    ("kk", "kazakh"), ("sq", "albanian"), ("sw", "swahili"), ("gl", "galician"),
    ("mr", "marathi"), ("pa", "punjabi"), ("si", "sinhala"), ("km", "khmer"), ("sn", "shona"),
    ("yo", "yoruba"), ("so", "somali"), ("af", "afrikaans"), ("oc", "occitan"),
    ("ka", "georgian"), ("be", "belarusian"), ("tg", "tajik"), ("sd", "sindhi"),
    ("gu", "gujarati"), ("am", "amharic"), ("yi", "yiddish"), ("lo", "lao"), ("uz", "uzbek"),
    ("fo", "faroese"), ("ht", "haitian creole"), ("ps", "pashto"), ("tk", "turkmen"),
    ("nn", "nynorsk"), ("mt", "maltese"), ("sa", "sanskrit"), ("lb", "luxembourgish"),
    ("my", "myanmar"), ("bo", "tibetan"), ("tl", "tagalog"), ("mg", "malagasy"),
    ("as", "assamese"), ("tt", "tatar"), ("haw", "hawaiian"), ("ln", "lingala"),
    ("ha", "hausa"), ("ba", "bashkir"), ("jw", "javanese"), ("su", "sundanese"),
    ("yue", "cantonese"),
)

LANGUAGES = dict(_TABLE)  # code -> name, in token order
MAX_LANGUAGES = len(LANGUAGES)  # 100 (large-v3); the original models have 99

# name -> code, with the aliases openai-whisper accepts
TO_LANGUAGE_CODE = {
    **{name: code for code, name in LANGUAGES.items()},
    "burmese": "my", "valencian": "ca", "flemish": "nl", "haitian": "ht",
    "letzeburgesch": "lb", "pushto": "ps", "panjabi": "pa", "moldavian": "ro",
    "moldovan": "ro", "sinhalese": "si", "castilian": "es", "mandarin": "zh",
}


def language_code(language, codes=None):
    """A language code ("en") or name ("English", "mandarin") -> its code; ``codes`` limits
    the valid codes (default: all 100). ValueError listing the valid codes otherwise."""
    codes = list(LANGUAGES) if codes is None else list(codes)
    if isinstance(language, str):
        key = language.strip().lower()
        if key.startswith("<|") and key.endswith("|>"):
            key = key[2:-2]
        code = key if key in LANGUAGES else TO_LANGUAGE_CODE.get(key)
        if code in codes:
            return code
    raise ValueError(f"Unknown or unsupported language {language!r}: expected one of these "
                     f"{len(codes)} codes (or their names, e.g. 'english'): {', '.join(codes)}.")
