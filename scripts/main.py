"""The main job: fine-tune a pre-trained BERT preset, evaluate it, save it as a new preset,
and show that the new preset reloads with identical predictions on other backends.

    python scripts/main.py                         # the small preset shipped in the repo
    python scripts/main.py --preset bert_base      # the full model, where the Hub is reachable

Steps, on the default backend (ZOO_BACKEND, jax unless set):
1. ``BertTextClassifier.from_preset(PRESET, num_classes=2)``: the pre-trained backbone and
   its tokenizer, a new classification head;
2. ``fit`` on raw strings (the preprocessor is attached) with a progress bar: the demo
   sentiment set of scripts/demo_data.py (negations flip the label);
3. ``evaluate`` on held-out sentences;
4. ``save_to_preset(OUT)``: an atomic preset directory with checksums;
5. reload OUT in a fresh process on each other backend and compare its predictions.
"""
import argparse
import json
import os
import subprocess
import sys
import tempfile
import time

import numpy as np

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, ROOT)
sys.path.insert(0, os.path.join(ROOT, "scripts"))
DEMO_PRESET = os.path.join(ROOT, "presets", "bert_tiny_en_uncased_demo")
BACKENDS = ("jax", "torch", "tensorflow", "numpy")

RELOAD = """
import json, sys, zoo
texts = json.load(open(sys.argv[2]))
model = zoo.Model.from_preset(sys.argv[1])
print(json.dumps(model.predict(texts, batch_size=64, verbose=0).tolist()))
"""


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--preset", default=DEMO_PRESET,
                        help="preset handle: a directory, a registry name or hf://org/repo")
    parser.add_argument("--out", default=None, help="where to save the fine-tuned preset")
    parser.add_argument("--epochs", type=int, default=5)
    parser.add_argument("--batch-size", type=int, default=32)
    parser.add_argument("--sequence-length", type=int, default=32)
    parser.add_argument("--learning-rate", type=float, default=3e-4)
    parser.add_argument("--train-size", type=int, default=None,
                        help="use only the first N training sentences (quick checks)")
    parser.add_argument("--reload-on", nargs="*", default=None,
                        help="backends to reload the new preset on (default: all others)")
    args = parser.parse_args()

    import demo_data
    import zoo
    from zoo.models.bert import BertTextClassifier

    backend = zoo.config.backend()
    if backend == "numpy":
        raise SystemExit("The numpy backend runs inference only; fine-tune with "
                         "ZOO_BACKEND=jax, torch or tensorflow.")
    zoo.config.set_random_seed(0)
    print(f"[{backend}] loading {args.preset}")
    classifier = BertTextClassifier.from_preset(args.preset, num_classes=2)
    classifier.preprocessor.sequence_length = args.sequence_length
    classifier.compile(optimizer=zoo.optimizers.AdamW(args.learning_rate, weight_decay=0.01))
    classifier.summary()

    train_x, train_y, test_x, test_y = demo_data.sentiment_data()
    train_x, train_y = train_x[:args.train_size], train_y[:args.train_size]
    before = classifier.evaluate(test_x, np.array(test_y), batch_size=64, verbose=0,
                                 return_dict=True)
    start = time.perf_counter()
    classifier.fit(train_x, np.array(train_y), batch_size=args.batch_size, epochs=args.epochs,
                   shuffle=True)
    seconds = time.perf_counter() - start
    after = classifier.evaluate(test_x, np.array(test_y), batch_size=64, verbose=0,
                                return_dict=True)
    print(f"\nheld-out accuracy: {before['sparse_categorical_accuracy']:.3f} before "
          f"fine-tuning -> {after['sparse_categorical_accuracy']:.3f} after "
          f"({len(train_x)} sentences x {args.epochs} epochs in {seconds:.0f} s)")

    out = args.out or os.path.join(tempfile.mkdtemp(prefix="zoo-main-"), "bert_sentiment")
    classifier.save_to_preset(out, source=f"fine-tuned from {args.preset} by scripts/main.py")
    print(f"saved the fine-tuned preset to {out}: {sorted(os.listdir(out))}")

    texts_path = os.path.join(os.path.dirname(os.path.abspath(out)), "reload_texts.json")
    with open(texts_path, "w") as f:
        json.dump(test_x[:64], f)
    expected = classifier.predict(test_x[:64], batch_size=64, verbose=0)
    ok = True
    for other in args.reload_on if args.reload_on is not None else BACKENDS:
        if other == backend:
            continue
        env = dict(os.environ, ZOO_BACKEND=other, PYTHONPATH=ROOT)
        result = subprocess.run([sys.executable, "-c", RELOAD, out, texts_path], env=env,
                                capture_output=True, text=True)
        if result.returncode != 0:
            print(f"[{other}] reload failed:\n{result.stderr[-3000:]}")
            ok = False
            continue
        got = np.asarray(json.loads(result.stdout.strip().splitlines()[-1]), "float32")
        diff = float(np.max(np.abs(got - expected)))
        same = bool(np.all(got.argmax(-1) == expected.argmax(-1)))
        print(f"[{other}] reloaded the preset: max |logit difference| = {diff:.1e}, "
              f"{'identical' if same else 'DIFFERENT'} predicted labels")
        ok &= same and diff <= 1e-5
    print("\nOK: the fine-tuned preset predicts the same on every backend." if ok
          else "\nMISMATCH between backends")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
