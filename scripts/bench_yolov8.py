"""YOLOv8 speed: zoo's YOLOv8Detector.detect on each backend against ultralytics' fused
DetectionModel (torch eager), same weights, forward + NMS; and the NMS alone.

1. weights: ultralytics builds ``DetectionModel("yolov8{n,s}.yaml", nc=80)`` with random
   weights and BatchNorm statistics, the head tempered as
   tests/models/yolov8/make_predictor_references.py does (scores like a trained model's:
   15-80 boxes kept on bus.jpg at conf 0.25, no saturated ties), saved with ``torch.save``
   in ultralytics' checkpoint layout (``{"model": DetectionModel, ...}``, float32); it loads
   that back (``.eval().fuse()``), zoo with ``zoo.Model.from_preset(path)``;
2. input: ultralytics/assets/bus.jpg letterboxed to 640 x 640 (320 with ``--small``) by
   zoo's YOLOv8ImageConverter (``auto=False``), float32 in [0, 1], tiled to the batch;
   (B, H, W, 3) for zoo, (B, 3, H, W) for ultralytics;
3. measures (ratio = ultralytics time / zoo time, higher is better for zoo):
   - ``fp32_{n,s}_b{1,8}``: zoo ``detector.detect(pixels)`` (fused detector + NMS, compiled
     on jax / tensorflow, NumPy out) against ``non_max_suppression(model(x),
     conf_thres=0.25, iou_thres=0.7, max_det=300)`` under ``torch.inference_mode()``;
   - ``bf16_n_b{1,8}``: zoo ``dtype="bfloat16"`` against the same ultralytics fp32 model;
   - ``nms_b{1,8}``: NMS alone, val-style (conf 0.001, iou 0.7, max_det 300, 80 classes,
     best class per box: ultralytics' validator adds ``multi_label=True``, which zoo's NMS
     has not), on the n model's raw predictions for the input above, (B, 84, A) for
     ultralytics, boxes (B, A, 4) xyxy and scores (B, A, 80) for
     ``zoo.ops.non_max_suppression`` (jax.jit / XLA tf.function, eager on torch, numpy);
   each side's kept boxes are reported (fp32: they agree);
4. timing: a warm-up call per side (zoo's first compiles on jax/tf), then ``--rounds``
   rounds in which each side in turn, after ``--settle`` seconds of rest, makes ``--calls``
   consecutive calls (3: steady state, as a stream of images runs; ``--calls 1`` times
   one image after idling); each side's best call counts; GFLOPs counted from
   the fused conv shapes (ultralytics reports 8.7 / 28.6 per image at 640), GFLOP/s, and
   the machine's GEMM rate.

ultralytics runs with tests/stand_ins first on its PYTHONPATH (a stand-in torchvision for
its version lookup) and "torchvision" kept out of sys.modules, so its NMS is its own torch
NMS, not torchvision.ops.nms. Both sides use the machine's default thread count (the
worker undoes the OMP_NUM_THREADS=1 that ultralytics' import sets). Each side runs in its
own worker process (scripts/bench_workers.py), one zoo backend at a time, in lock-step.

    python scripts/bench_yolov8.py [--rounds 3] [--backends jax,torch,tensorflow,numpy]
                                   [--measures fp32_n_b1,...,nms_b8] [--small]
"""
import argparse
import os
import sys
import tempfile
import time

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from bench_workers import (  # noqa: E402
    ROOT,
    ZooSide,
    add_common_options,
    chosen,
    clock_line,
    commit,
    cpu_line,
    gemm_rate,
    load_average,
    run_measures,
    serve,
    vector_flags,
    worker_factory,
)

REFERENCE = "ultralytics"
MEASURES = ("fp32_n_b1", "fp32_n_b8", "fp32_s_b1", "fp32_s_b8", "bf16_n_b1", "bf16_n_b8",
            "nms_b1", "nms_b8")
SCALES = ("n", "s")
NOMINAL_GFLOPS = {"n": 8.7, "s": 28.6}  # ultralytics' per image at 640
PREDICT = {"conf_thres": 0.25, "iou_thres": 0.7, "max_det": 300}
VAL = {"conf_thres": 0.001, "iou_thres": 0.7, "max_det": 300}
GEMM = (6400, 1152, 128)  # yolov8s' 3x3 128 -> 128 conv at stride 8 (640 px) as a GEMM
STAND_INS = os.path.join(ROOT, "tests", "stand_ins")


def parse(measure):
    """'fp32_s_b8' -> ('fp32', 's', 8); 'nms_b8' -> ('nms', 'n', 8)."""
    parts = measure.split("_")
    return parts[0], parts[1] if len(parts) == 3 else "n", int(parts[-1][1:])


def load(directory, name, batch):
    """The first ``batch`` rows of NAME.npy (pixels (8, H, W, 3), predictions (8, 84, A))."""
    return np.load(os.path.join(directory, name + ".npy"))[:batch]


def nchw(pixels):
    return np.ascontiguousarray(pixels.transpose(0, 3, 1, 2))


def zoo_nms_inputs(predictions):
    """ultralytics' (B, 4 + C, A) xywh predictions -> boxes (B, A, 4) xyxy, scores (B, A, C),
    in float32 as ultralytics' xywh2xyxy computes them."""
    x = np.ascontiguousarray(predictions.transpose(0, 2, 1))
    xy, half = x[..., :2], x[..., 2:4] / 2
    boxes = np.concatenate([xy - half, xy + half], axis=-1)
    return boxes, np.ascontiguousarray(x[..., 4:])


# -- workers ------------------------------------------------------------------------------------

class UltralyticsWorker:
    """ultralytics (torch eager): writes the checkpoints, the input and the predictions."""

    def __init__(self, directory):
        import torch

        self.torch = torch
        self.threads = torch.get_num_threads()  # the default, before ultralytics' import
        omp = os.environ.get("OMP_NUM_THREADS")
        import ultralytics
        from ultralytics.utils import nms

        if omp is None:
            os.environ.pop("OMP_NUM_THREADS", None)
        torch.set_num_threads(self.threads)
        sys.modules.pop("torchvision", None)  # ultralytics' own torch NMS, not torchvision's
        self.version, self.nms = ultralytics.__version__, nms
        self.directory = directory
        self.models = {}
        self.fns = {}

    def make_checkpoint(self, small):
        from ultralytics.nn.tasks import DetectionModel

        torch = self.torch
        pixels = self._write_pixels(320 if small else 640)
        x = torch.from_numpy(nchw(pixels))
        shifts = {}
        for scale in SCALES:
            torch.manual_seed(0)
            model = DetectionModel(f"yolov8{scale}.yaml", nc=80, verbose=False)
            with torch.no_grad():  # random weights and BatchNorm statistics (DFL stays)
                for name, p in model.named_parameters():
                    if ".dfl." not in name:
                        p.copy_(torch.randn_like(p) * (0.5 if p.ndim == 1 else 0.15))
                for m in model.modules():
                    if isinstance(m, torch.nn.BatchNorm2d):
                        m.running_mean.copy_(torch.randn_like(m.running_mean) * 0.2)
                        m.running_var.copy_(torch.rand_like(m.running_var) + 0.5)
            shifts[scale] = self._temper(model.eval(), x[:1])
            torch.save({"model": model.float(), "date": "2026-01-01", "version": self.version},
                       os.path.join(self.directory, f"yolov8{scale}.pt"))
        with torch.inference_mode():
            predictions = self._model("n")(x)[0].numpy()
        np.save(os.path.join(self.directory, "predictions.npy"), predictions)
        best = predictions[:1, 4:].max(axis=1)
        return {"threads": self.threads, "ultralytics": self.version,
                "torch": torch.__version__, "image": list(pixels.shape[1:3]),
                "class_bias_shift": shifts,
                "gflops_per_image": {s: self._conv_gflops(s, x[:1]) for s in SCALES},
                "candidates_at_0.001": f"{int((best > 0.001).sum())} of {best.shape[1]}",
                "torch_gemm_gflops": gemm_rate(torch.matmul, torch.from_numpy, GEMM),
                "torch_gemm_bf16_gflops": gemm_rate(
                    torch.matmul, lambda a: torch.from_numpy(a).to(torch.bfloat16), GEMM)}

    def _temper(self, model, x, target=(15, 80)):
        """Scores like a trained model's on x, as tests/models/yolov8/
        make_predictor_references.py makes them: random weights give logits in the hundreds
        (every score 1.0, ties, max_det boxes kept). The last conv of each head branch is
        scaled so its outputs vary by 2 (std) around its bias (per level), then the class biases are
        shifted (bisection) until NMS at conf 0.25 keeps ``target`` boxes -> the shift."""
        convs = {b: [level[-1] for level in getattr(model.model[-1], b)] for b in ("cv2", "cv3")}
        outputs = {}
        hooks = [c.register_forward_hook(
            lambda m, _, o: outputs.__setitem__(m, o - m.bias[:, None, None]))
            for level in convs.values() for c in level]
        with self.torch.no_grad():
            model(x)
            for hook in hooks:
                hook.remove()
            for c in outputs:  # per level: the deepest one's outputs are far the largest
                c.weight.mul_(2.0 / outputs[c].std())
            low, high, shift = -20.0, 20.0, 0.0
            for _ in range(30):
                step = (low + high) / 2 - shift
                for c in convs["cv3"]:
                    c.bias.add_(step)
                shift += step
                kept = len(self.nms.non_max_suppression(model(x), **PREDICT)[0])
                if target[0] <= kept <= target[1]:
                    return round(shift, 3)
                low, high = (shift, high) if kept < target[0] else (low, shift)
        raise RuntimeError(f"no class-bias shift keeps {target} boxes (last: {kept})")

    def _write_pixels(self, size):
        """bus.jpg letterboxed by zoo's converter (zoo on NumPy: no second framework)."""
        import importlib.util

        os.environ["ZOO_BACKEND"] = "numpy"
        sys.path.insert(0, ROOT)
        from zoo.models.yolov8.image_converter import YOLOv8ImageConverter

        package = list(importlib.util.find_spec("ultralytics").submodule_search_locations)[0]
        image = os.path.join(package, "assets", "bus.jpg")
        pixels = YOLOv8ImageConverter(image_size=size, auto=False)(image)
        pixels = np.ascontiguousarray(np.repeat(pixels, 8, axis=0), np.float32)
        np.save(os.path.join(self.directory, "pixels.npy"), pixels)
        return pixels

    def _model(self, scale):
        if scale not in self.models:
            checkpoint = self.torch.load(os.path.join(self.directory, f"yolov8{scale}.pt"),
                                         map_location="cpu", weights_only=False)
            self.models[scale] = checkpoint["model"].float().eval().fuse(verbose=False)
        return self.models[scale]

    def _conv_gflops(self, scale, x):
        """GFLOPs (2 x multiply-adds) of the fused model's convolutions on x."""
        total = []

        def count(module, _, out):
            kh, kw = module.kernel_size
            total.append(2 * out.numel() * module.in_channels // module.groups * kh * kw)

        model = self._model(scale)
        hooks = [m.register_forward_hook(count) for m in model.modules()
                 if isinstance(m, self.torch.nn.Conv2d)]
        with self.torch.inference_mode():
            model(x)
        for hook in hooks:
            hook.remove()
        return sum(total) / 1e9

    def prepare(self, measure):
        torch = self.torch
        kind, scale, batch = parse(measure)
        if kind == "nms":
            predictions = torch.from_numpy(load(self.directory, "predictions", batch))

            def run():
                return self.nms.non_max_suppression(predictions, **VAL)
        else:
            model = self._model(scale)
            x = torch.from_numpy(nchw(load(self.directory, "pixels", batch)))

            def run():
                with torch.inference_mode():
                    return self.nms.non_max_suppression(model(x), **PREDICT)

        start = time.perf_counter()
        kept = sum(len(d) for d in run())
        self.fns[measure] = run
        return {"first_call": time.perf_counter() - start, "kept": kept,
                "torchvision_imported": "torchvision" in sys.modules}


class ZooWorker(ZooSide):
    """One zoo backend (ZOO_BACKEND set by the driver)."""

    def __init__(self, directory):
        super().__init__(directory)
        self.detectors = {}

    def _compiled(self, fn):
        """fn compiled as zoo compiles its inference functions: jax.jit, XLA tf.function."""
        if self.backend == "jax":
            import jax

            return jax.jit(fn)
        if self.backend == "tensorflow":
            import tensorflow as tf

            return tf.function(fn, jit_compile=True, autograph=False)
        return fn

    def prepare(self, measure):
        ops = self.zoo.ops
        kind, scale, batch = parse(measure)
        self.fns.clear()
        if kind == "nms":
            boxes, scores = (ops.convert_to_tensor(a) for a in
                             zoo_nms_inputs(load(self.directory, "predictions", batch)))
            nms = self._compiled(lambda b, s: ops.non_max_suppression(
                b, s, iou_threshold=VAL["iou_thres"], score_threshold=VAL["conf_thres"],
                max_detections=VAL["max_det"]))

            def run():
                return {k: ops.convert_to_numpy(v) for k, v in nms(boxes, scores).items()}
        else:
            key = (kind, scale)
            if key not in self.detectors:
                self.detectors[key] = self.zoo.Model.from_preset(
                    os.path.join(self.directory, f"yolov8{scale}.pt"),
                    dtype="bfloat16" if kind == "bf16" else None)
            detector = self.detectors[key]
            pixels = load(self.directory, "pixels", batch)

            def run():
                return detector.detect(pixels, score_threshold=PREDICT["conf_thres"],
                                       iou_threshold=PREDICT["iou_thres"],
                                       max_detections=PREDICT["max_det"])

        start = time.perf_counter()
        out = run()
        self.fns[measure] = run
        info = {"first_call": time.perf_counter() - start,
                "kept": int(np.sum(out["num_detections"]))}
        if self.backend == "torch":
            import torch

            info["threads"] = torch.get_num_threads()
        return info


make_worker = worker_factory(REFERENCE, UltralyticsWorker, ZooWorker)


# -- driver -------------------------------------------------------------------------------------

def print_table(rows, per_image):
    print("\n== best seconds per call (measured in alternation), ratio = ultralytics / zoo "
          "(higher is better), GFLOP/s of each side ==")
    print(f"{'measure':10s} {'backend':11s} {'zoo':>9s} {'ultralytics':>12s} {'ratio':>6s} "
          f"{'GFLOP':>6s} {'zoo GF/s':>9s} {'ultra GF/s':>10s} {'boxes':>11s} {'compile':>8s}")
    for measure, name, ref, got, infos in rows:
        if not (isinstance(ref, float) and isinstance(got, float)):
            print(f"{measure:10s} {name:11s} failed: {got}")
            continue
        kind, scale, batch = parse(measure)
        flops = None if kind == "nms" else per_image[scale] * batch
        rates = (f"{flops:6.1f} {flops / got:9.1f} {flops / ref:10.1f}" if flops
                 else f"{'--':>6s} {'--':>9s} {'--':>10s}")
        boxes = f"{infos[1]['kept']}/{infos[0]['kept']}"
        compile_time = max(0.0, infos[1]["first_call"] - got)
        print(f"{measure:10s} {name:11s} {got:8.4f}s {ref:11.4f}s {ref / got:5.2f}x {rates} "
              f"{boxes:>11s} {compile_time:7.1f}s")
    print("boxes: zoo's / ultralytics' kept boxes over the batch; nms_*: against ultralytics' "
          "own torch NMS (TorchNMS.nms), which it uses when torchvision is not imported")
    ratios = {}
    for measure, name, ref, got, _ in rows:
        if isinstance(ref, float) and isinstance(got, float):
            ratios.setdefault(measure, {})[name] = ref / got
    for measure, by_backend in ratios.items():
        kind = parse(measure)[0]
        best = max(by_backend, key=by_backend.get)
        if kind == "bf16":
            goal = f"bf16 >= 2x ultralytics fp32: {'met' if by_backend[best] >= 2 else 'NOT met'}"
        else:
            goal = (f"best >= 1.2x: {'met' if by_backend[best] >= 1.2 else 'NOT met'}; every "
                    f"backend >= 1x: {'met' if min(by_backend.values()) >= 1 else 'NOT met'}")
        print(f"target {measure}: best {best} {by_backend[best]:.2f}x; {goal}")


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    add_common_options(parser, "jax,torch,tensorflow,numpy", measures=MEASURES,
                       rounds_help="rounds of --calls timed calls per side (the best counts)")
    parser.add_argument("--small", action="store_true",
                        help="a quick check: 320 px, one round")
    parser.add_argument("--settle", type=float, default=0.5,
                        help="seconds of rest before each side's turn (idle threads of the "
                             "other side stop spinning)")
    parser.add_argument("--calls", type=int, default=3,
                        help="consecutive timed calls per side per round (the first after "
                             "the rest runs on cold caches and sleeping thread pools; the "
                             "best call counts)")
    args = parser.parse_args(argv)
    if args.worker:
        return serve(make_worker(args.worker), args.dir)

    backends, measures = chosen(parser, args, measures=MEASURES)
    if args.small:
        args.rounds = 1
    print(f"YOLOv8 n and s, nc 80, random weights and BatchNorm statistics; "
          f"{'320' if args.small else '640'} px bus.jpg; rounds {args.rounds} of {args.calls} "
          f"calls, best call; code "
          f"of commit {commit()}")
    print(f"{cpu_line(bf16=True)}\nvector flags: {vector_flags()}\n{clock_line()}")
    numpy_gemm = gemm_rate(np.matmul, lambda a: a, GEMM)
    env = {"PYTHONPATH": os.pathsep.join(p for p in (STAND_INS, os.environ.get("PYTHONPATH"))
                                         if p)}
    rows = []
    with tempfile.TemporaryDirectory(prefix="zoo-bench-yolov8-") as directory:
        results = run_measures(__file__, directory, backends, measures, args.rounds,
                               max(1, args.calls), args.small, REFERENCE, reference_env=env,
                               settle=args.settle)
        info = next(results)[1]
        per_image = info.pop("gflops_per_image")
        print(f"ultralytics: {info}; torch threads {info['threads']} on both sides (the "
              f"machine's default); ultralytics' NMS: its own torch NMS (torchvision not in "
              f"sys.modules)")
        print(f"GEMM {GEMM[0]} x {GEMM[1]} @ {GEMM[1]} x {GEMM[2]}: NumPy fp32 "
              f"{numpy_gemm:.1f} GFLOP/s, torch fp32 {info['torch_gemm_gflops']:.1f}, torch "
              f"bf16 {info['torch_gemm_bf16_gflops']:.1f}")
        print("conv GFLOPs per image (fused, counted from the conv shapes): " + ", ".join(
            f"{s} {g:.2f} (ultralytics reports {NOMINAL_GFLOPS[s]} at 640)"
            for s, g in per_image.items()))
        for name, measure, ref, got, infos, seconds in results:
            rows.append((measure, name, ref, got, infos))
            if not (isinstance(ref, float) and isinstance(got, float)):
                print(f"[{name}] {measure}: failed: {got}", flush=True)
                continue
            kept = [i["kept"] for i in infos]
            agree = ("agree" if kept[0] == kept[1] else "bf16 against fp32" if
                     measure.startswith("bf16") else "DIFFER")
            tv = " (torchvision WAS imported)" if infos[0]["torchvision_imported"] else ""
            if "threads" in infos[1]:
                tv += f" (zoo torch threads {infos[1]['threads']})"
            print(f"[{name}] {measure}: zoo {got:.4f} s, ultralytics {ref:.4f} s{tv}, "
                  f"{ref / got:.2f}x; kept boxes zoo {kept[1]}, ultralytics {kept[0]} "
                  f"({agree}); zoo's first call {infos[1]['first_call']:.1f} s "
                  f"({seconds:.0f} s)", flush=True)
    print_table(rows, per_image)
    print(f"load average at the end: {load_average()}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
