"""The engine's end-to-end demo: a small classifier trained, saved and reloaded everywhere.

Builds a small functional classifier on the active backend (default jax), fine-tunes it
with ``fit`` (progress bar), evaluates it, saves it as ``demo.zoo``, then reloads the file
under every other backend in a fresh process and checks that the predictions are
identical.

    python examples/engine_demo.py [--out DIR]
"""
import argparse
import json
import os
import subprocess
import sys
import tempfile

import numpy as np

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, ROOT)

RELOAD = """
import json, sys, numpy as np, zoo
model = zoo.saving.load_model(sys.argv[1])
x = np.load(sys.argv[2])
print(json.dumps(zoo.ops.convert_to_numpy(model(x)).tolist()))
"""


def build():
    import zoo
    from zoo import layers

    zoo.config.set_random_seed(0)
    inputs = zoo.Input((16,), name="features")
    x = layers.Dense(32, activation="gelu", name="hidden")(inputs)
    x = layers.LayerNormalization(name="norm")(x)
    outputs = layers.Dense(3, activation="softmax", name="classes")(x)
    return zoo.Model(inputs, outputs, name="demo")


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--out", default=None, help="where to write demo.zoo (default: a temp dir)")
    args = parser.parse_args()
    import zoo

    out_dir = args.out or tempfile.mkdtemp(prefix="zoo-demo-")
    os.makedirs(out_dir, exist_ok=True)
    model = build()
    model.summary()
    rng = np.random.RandomState(1)
    features = rng.randn(600, 16).astype("float32")
    labels = (features[:, :3].argmax(axis=1)).astype("int32")  # a learnable 3-class rule
    model.compile(optimizer=zoo.optimizers.Adam(0.01), loss="sparse_categorical_crossentropy",
                  metrics=["accuracy"])
    if zoo.config.backend() != "numpy":
        model.fit(features[:500], labels[:500], batch_size=32, epochs=5,
                  validation_data=(features[500:], labels[500:]))
    results = model.evaluate(features[500:], labels[500:], verbose=0, return_dict=True)
    print(f"held-out: {results}")
    x = features[500:504]
    y = zoo.ops.convert_to_numpy(model(x))
    path = os.path.join(out_dir, "demo.zoo")
    model.save(path)
    np.save(os.path.join(out_dir, "x.npy"), x)
    print(f"\n[{zoo.config.backend()}] saved {path}; predictions:\n{np.round(y, 4)}")
    ok = True
    for backend in ("jax", "torch", "tensorflow", "numpy"):
        if backend == zoo.config.backend():
            continue
        env = dict(os.environ, ZOO_BACKEND=backend, PYTHONPATH=ROOT)
        result = subprocess.run([sys.executable, "-c", RELOAD, path, os.path.join(out_dir, "x.npy")],
                                env=env, capture_output=True, text=True)
        if result.returncode != 0:
            print(f"[{backend}] reload failed:\n{result.stderr[-2000:]}")
            ok = False
            continue
        other = np.asarray(json.loads(result.stdout.strip().splitlines()[-1]), dtype="float32")
        diff = float(np.max(np.abs(other - y)))
        print(f"[{backend}] reloaded demo.zoo: max |difference| = {diff:.2e}")
        ok &= diff <= 1e-6
    print("\nOK: the same predictions on every backend (max difference <= 1e-6)." if ok
          else "\nMISMATCH")
    sys.exit(0 if ok else 1)


if __name__ == "__main__":
    main()
