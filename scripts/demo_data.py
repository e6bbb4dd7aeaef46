"""Offline text for the demo preset: a pre-training corpus and a small sentiment set.

Nothing here downloads anything. The corpus is the docstrings of the running Python's own
standard library, read with ``ast`` (no module is imported or executed). The sentiment set
is generated from templates with a fixed seed: subjects x adjectives x phrasings, where a
negation ("was not", "was far from") flips the label, so a bag of words is not enough.
"""
import ast
import os
import random
import re
import sysconfig

POSITIVE = ["great", "excellent", "wonderful", "good", "superb", "delightful", "pleasant",
            "brilliant", "lovely", "enjoyable", "useful", "clear", "fast", "reliable",
            "helpful", "elegant", "solid", "fantastic", "charming", "impressive", "smooth",
            "friendly", "beautiful", "satisfying"]
NEGATIVE = ["terrible", "awful", "bad", "poor", "boring", "dull", "slow", "broken",
            "confusing", "useless", "painful", "ugly", "weak", "annoying", "clumsy",
            "disappointing", "messy", "fragile", "tedious", "frustrating", "sloppy",
            "unpleasant", "horrible", "bland"]
SUBJECTS = ["the film", "this library", "the documentation", "that meal", "the update",
            "our trip", "the service", "the new release", "this book", "the hotel",
            "the lecture", "that concert", "the interface", "the game", "this phone",
            "the tutorial", "the coffee", "the museum", "the installer", "the album"]
PLAIN = ["{s} was {a}.", "i found {s} {a}.", "{s} is really {a}.", "honestly, {s} felt {a}.",
         "everyone agreed that {s} was {a}.", "{s} turned out {a}.", "what a {a} experience "
         "{s} was.", "i think {s} is {a}."]
NEGATED = ["{s} was not {a}.", "i did not find {s} {a}.", "{s} is far from {a}.",
           "honestly, {s} never felt {a}.", "nobody thought {s} was {a}."]


def sentiment_data(seed=0, test_fraction=0.2):
    """-> (train_texts, train_labels, test_texts, test_labels); label 1 = positive."""
    rows = []
    for s in SUBJECTS:
        for words, polarity in ((POSITIVE, 1), (NEGATIVE, 0)):
            for a in words:
                for t in PLAIN:
                    rows.append((t.format(s=s, a=a), polarity))
                for t in NEGATED:
                    rows.append((t.format(s=s, a=a), 1 - polarity))
    rng = random.Random(seed)
    rng.shuffle(rows)
    rows = rows[:3000]
    cut = int(len(rows) * (1 - test_fraction))
    train, test = rows[:cut], rows[cut:]
    return ([t for t, _ in train], [y for _, y in train],
            [t for t, _ in test], [y for _, y in test])


def stdlib_sentences(limit=60000):
    """Sentences from the docstrings of the standard library (parsed, never imported)."""
    root = sysconfig.get_paths()["stdlib"]
    sentences = []
    for dirpath, dirnames, filenames in sorted(os.walk(root)):
        dirnames[:] = sorted(d for d in dirnames if d not in ("test", "tests", "idlelib",
                                                              "site-packages", "__pycache__"))
        for filename in sorted(filenames):
            if not filename.endswith(".py"):
                continue
            try:
                with open(os.path.join(dirpath, filename), encoding="utf-8") as f:
                    tree = ast.parse(f.read())
            except (SyntaxError, UnicodeDecodeError, OSError):
                continue
            for node in ast.walk(tree):
                if isinstance(node, (ast.Module, ast.ClassDef, ast.FunctionDef,
                                     ast.AsyncFunctionDef)):
                    doc = ast.get_docstring(node)
                    if doc:
                        text = " ".join(doc.split())
                        sentences.extend(s for s in re.split(r"(?<=[.!?])\s+", text)
                                         if 20 <= len(s) <= 300)
            if len(sentences) >= limit:
                return sentences[:limit]
    return sentences
