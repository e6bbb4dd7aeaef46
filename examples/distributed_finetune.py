"""Fine-tune a BERT classifier sharded over a device mesh, save it, reload it on one device.

    ZOO_BACKEND=jax python examples/distributed_finetune.py [--mesh 4x2] [--preset HANDLE]
        [--out DIR] [--epochs 5] [--batch-size 32]

The whole path of zoo.distribution, on the JAX backend:

1. a ``DeviceMesh`` of shape BATCHxMODEL over every device (``--mesh``);
2. the backbone's ``get_layout_map(mesh)``: Megatron-style splits of the attention and MLP
   kernels and the token embedding over the "model" axis;
3. ``from_preset`` inside ``ModelParallel(layout_map).scope()``: each device reads its own
   slices of each weight from the preset file (the model never exists whole on a device);
4. ``fit`` / ``evaluate``: each batch split over the "batch" axis;
5. ``save_to_preset``: the shards gathered into whole tensors, a plain preset;
6. ``from_preset`` again without a distribution: one device, the same predictions.

With no accelerator, the script asks XLA for 8 virtual CPU devices (XLA_FLAGS), so it runs
anywhere; on a GPU host it uses the GPUs. Several processes (one per host): set
ZOO_COORDINATOR_ADDRESS, ZOO_NUM_PROCESSES and ZOO_PROCESS_ID (see the README's "Scale on
paper"); every process runs this same script on the same data. The default preset is the
small BERT shipped in the repo (2 heads, so the model axis is at most 2) and the data the
demo sentiment set of scripts/demo_data.py.
"""
import argparse
import os
import sys
import tempfile

if "xla_force_host_platform_device_count" not in os.environ.get("XLA_FLAGS", ""):
    os.environ["XLA_FLAGS"] = (os.environ.get("XLA_FLAGS", "") +
                               " --xla_force_host_platform_device_count=8").strip()
os.environ.setdefault("ZOO_BACKEND", "jax")

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, ROOT)
sys.path.insert(0, os.path.join(ROOT, "scripts"))
DEMO_PRESET = os.path.join(ROOT, "presets", "bert_tiny_en_uncased_demo")


def parse_mesh(text):
    try:
        batch, model = (int(n) for n in text.lower().split("x"))
    except ValueError:
        raise SystemExit(f"--mesh {text!r}: write it BATCHxMODEL, e.g. 4x2.") from None
    return batch, model


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--mesh", default="4x2", help="BATCHxMODEL devices (default 4x2)")
    parser.add_argument("--preset", default=DEMO_PRESET)
    parser.add_argument("--out", default=None, help="where to save (default: a temp dir)")
    parser.add_argument("--epochs", type=int, default=5)
    parser.add_argument("--batch-size", type=int, default=32)
    parser.add_argument("--learning-rate", type=float, default=3e-4)
    args = parser.parse_args(argv)

    import numpy as np

    import zoo
    from demo_data import sentiment_data
    from zoo import distribution
    from zoo.models import BertBackbone, BertTextClassifier

    if os.environ.get("ZOO_NUM_PROCESSES"):
        distribution.initialize()  # coordinator, count and rank from ZOO_* variables
    batch, model_size = parse_mesh(args.mesh)
    devices = distribution.list_devices()
    if batch * model_size != len(devices):
        raise SystemExit(f"--mesh {args.mesh} needs {batch * model_size} devices; this run "
                         f"has {len(devices)}: {devices}.")

    # 1-2: the mesh and where each weight goes
    mesh = distribution.DeviceMesh((batch, model_size), ("batch", "model"), devices)
    layout_map = BertBackbone.get_layout_map(mesh)
    strategy = distribution.ModelParallel(layout_map=layout_map, batch_dim_name="batch")
    print(f"mesh {mesh}: weights split over 'model' ({model_size}), batches over 'batch' "
          f"({batch})")

    # 3-4: load each device's slices, fine-tune, evaluate
    train_x, train_y, test_x, test_y = sentiment_data()
    with strategy.scope():
        classifier = BertTextClassifier.from_preset(args.preset, num_classes=2)
        classifier.compile(optimizer=zoo.optimizers.AdamW(args.learning_rate,
                                                          weight_decay=0.01))
        for variable in classifier.variables:
            if variable.path.endswith("transformer_layer_0/feedforward_intermediate_dense/"
                                      "kernel"):
                shards = variable.value.addressable_shards
                print(f"{variable.path} {variable.shape}: {len(shards)} shards of "
                      f"{tuple(shards[0].data.shape)}")
        classifier.fit(train_x, np.array(train_y), batch_size=args.batch_size,
                       epochs=args.epochs, shuffle=True)
        logs = classifier.evaluate(test_x, np.array(test_y), batch_size=args.batch_size,
                                   verbose=0, return_dict=True)
        sharded_predictions = classifier.predict(test_x[:64], batch_size=args.batch_size,
                                                 verbose=0)
    print(f"test accuracy {logs['sparse_categorical_accuracy']:.4f} ({len(test_y)} "
          f"sentences), loss {logs['loss']:.4f}")

    # 5-6: gather into a plain preset, reload on one device
    out = args.out or os.path.join(tempfile.mkdtemp(), "bert_sharded_finetuned")
    classifier.save_to_preset(out)
    reloaded = BertTextClassifier.from_preset(out)
    predictions = reloaded.predict(test_x[:64], batch_size=args.batch_size, verbose=0)
    kernel = reloaded.variables[0].value
    print(f"saved to {out}; reloaded on {len(kernel.addressable_shards)} device: max logit "
          f"difference {float(np.max(np.abs(predictions - sharded_predictions))):.2e}")
    return {"accuracy": logs["sparse_categorical_accuracy"], "out": out,
            "max_difference": float(np.max(np.abs(predictions - sharded_predictions)))}


if __name__ == "__main__":
    main()
