"""Build the small BERT preset shipped in the repo (presets/bert_tiny_en_uncased_demo).

zoo made these weights itself, offline, so the main job has a real pre-trained model to
start from where no hub is reachable:

1. corpus: sentences from the docstrings of Python's standard library, plus the unlabeled
   training sentences of the demo sentiment set (scripts/demo_data.py);
2. vocabulary: a 4,000-token uncased WordPiece vocabulary trained on that corpus with the
   Hugging Face ``tokenizers`` trainer;
3. model: BertMaskedLM over a 2-layer, 128-wide BertBackbone, pre-trained with masked
   language modelling (15% of tokens) by zoo's own ``fit``;
4. ``save_to_preset``: config, weights, vocabulary, metadata with checksums.

    ZOO_BACKEND=jax python scripts/make_demo_preset.py [--steps 3000] [--out DIR]
"""
import argparse
import os
import sys
import time

import numpy as np

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, ROOT)
sys.path.insert(0, os.path.join(ROOT, "scripts"))

import demo_data  # noqa: E402
import zoo  # noqa: E402
from zoo.models.bert import (BertBackbone, BertMaskedLM, BertMaskedLMPreprocessor,  # noqa: E402
                             BertTokenizer)

SPECIAL = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"]
DEFAULT_OUT = os.path.join(ROOT, "presets", "bert_tiny_en_uncased_demo")


def train_vocabulary(texts, size):
    from tokenizers import BertWordPieceTokenizer

    trainer = BertWordPieceTokenizer(lowercase=True, strip_accents=True)
    trainer.train_from_iterator(texts, vocab_size=size, special_tokens=SPECIAL,
                                show_progress=False)
    vocab = trainer.get_vocab()
    return sorted(vocab, key=vocab.get)


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--out", default=DEFAULT_OUT)
    parser.add_argument("--steps", type=int, default=3000)
    parser.add_argument("--batch-size", type=int, default=32)
    parser.add_argument("--vocabulary-size", type=int, default=4000)
    args = parser.parse_args()

    zoo.config.set_random_seed(0)
    train_texts, _, _, _ = demo_data.sentiment_data()
    corpus = demo_data.stdlib_sentences() + train_texts
    rng = np.random.default_rng(0)
    corpus = [corpus[i] for i in rng.permutation(len(corpus))]
    vocabulary = train_vocabulary(corpus, args.vocabulary_size)
    tokenizer = BertTokenizer(vocabulary, lowercase=True)
    preprocessor = BertMaskedLMPreprocessor(tokenizer, sequence_length=48,
                                            mask_selection_length=12, seed=0)
    backbone = BertBackbone(vocabulary_size=len(vocabulary), num_layers=2, num_heads=2,
                            hidden_dim=128, intermediate_dim=512, max_sequence_length=128)
    model = BertMaskedLM(backbone, preprocessor=preprocessor)
    schedule = zoo.optimizers.schedules.CosineDecay(0.0, args.steps, warmup_target=1e-3,
                                                    warmup_steps=200)
    model.compile(optimizer=zoo.optimizers.AdamW(schedule, weight_decay=0.01))
    epochs = -(-args.steps // (len(corpus) // args.batch_size))
    steps_per_epoch = -(-args.steps // epochs)  # epochs x steps_per_epoch ~ --steps
    start = time.perf_counter()
    history = model.fit(corpus, batch_size=args.batch_size, epochs=epochs,
                        steps_per_epoch=steps_per_epoch, verbose=2)
    print(f"pre-trained {args.steps} steps in {time.perf_counter() - start:.0f} s; final "
          f"masked-token accuracy {history.history['sparse_categorical_accuracy'][-1]:.3f}")
    model.save_to_preset(args.out, source="zoo: MLM pre-training on Python stdlib docstrings "
                                          "(scripts/make_demo_preset.py)")
    size = sum(os.path.getsize(os.path.join(args.out, f)) for f in os.listdir(args.out)
               if os.path.isfile(os.path.join(args.out, f)))
    print(f"saved {args.out} ({size / 1e6:.1f} MB)")


if __name__ == "__main__":
    main()
