"""YOLOv8ImageConverter against ultralytics' LetterBox, predictor pre_transform and
scale_boxes (make_letterbox_references.py), and zoo.models.image_io's input forms and
errors.

Tolerance: OpenCV resizes uint8 in fixed point, zoo in float32, so a resized pixel may
differ by one level (measured on these cases with OpenCV 5.1: at most 1; 3-7% of the
values of a letterbox on average over the cases, at most 12% for one image; none where
the image is not resized or is shrunk by exactly 2). pillow decodes ultralytics' two
JPEGs exactly as cv2.imread does here (both libjpeg-turbo); up to 2 levels is allowed.
"""
import json
import os

import numpy as np
import pytest

from tests.references import reference_fixture
from zoo.models import image_io
from zoo.models.yolov8.image_converter import LetterboxInfo, YOLOv8ImageConverter
from zoo.saving import serialization

pytestmark = pytest.mark.backend_independent
Image = pytest.importorskip("PIL.Image")  # the "image" extra

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
LEVEL = 1 / 255 + 1e-6  # one intensity level, in the converter's [0, 1] pixels
KINDS = {"auto": {}, "full": {"auto": False}, "noscaleup": {"scaleup": False}}
letterbox_references = reference_fixture(
    os.path.join(HERE, "make_letterbox_references.py"), requires=("ultralytics", "cv2", "torch"),
    python_path=[os.path.join(ROOT, "stand_ins")], name="letterbox_references")


@pytest.fixture(scope="module")
def refs(letterbox_references):
    """(the reference arrays, cases.json)."""
    with open(os.path.join(letterbox_references, "cases.json")) as f:
        cases = json.load(f)
    return np.load(os.path.join(letterbox_references, "letterbox.npz")), cases


def level_difference(got, expected):
    """(max |difference| in levels, fraction of values that differ)."""
    diff = np.abs(np.rint(np.asarray(got) * 255) - expected.astype(np.float32))
    return float(diff.max()), float(np.mean(diff > 0))


@pytest.mark.parametrize("kind", list(KINDS))
def test_letterbox_matches_ultralytics(refs, kind):
    ref, cases = refs
    converter = YOLOv8ImageConverter(**KINDS[kind])
    worst, differing = 0.0, []
    for name in cases["cases"]:
        pixels, info = converter.letterbox(ref[f"{name}/input"])
        expected = ref[f"{name}/{kind}"]
        assert pixels.dtype == np.float32 and pixels.shape == (1, *expected.shape), name
        assert info.shape == expected.shape[:2]
        assert np.abs(pixels[0] - expected / 255.0).max() <= LEVEL, name
        left, top = info.padding[0]
        assert np.all(expected[:top] == 114) and np.all(expected[:, :left] == 114), name
        most, fraction = level_difference(pixels[0], expected)
        worst = max(worst, most)
        differing.append(fraction)
    print(f"{kind}: max {worst:.0f} level(s), mean fraction of values differing "
          f"{np.mean(differing):.4f}, largest {np.max(differing):.4f}")


def test_asset_files_decode_like_cv2(refs):
    """pillow's decode of ultralytics' JPEGs against cv2.imread's, and the letterbox of the
    file path against ultralytics' of cv2's decode."""
    ref, cases = refs
    for name, path in cases["assets"].items():
        (decoded,), batched = image_io.load_images(path)
        expected = ref[f"{name}/input"]
        assert not batched and decoded.shape == expected.shape
        decode_max, fraction = level_difference(decoded / 255.0, expected)
        print(f"{name}.jpg: pillow vs cv2 decode max {decode_max:.0f}, fraction {fraction:.4f}")
        assert decode_max <= 2 and fraction < 0.01  # JPEG decoders may round differently
        pixels = YOLOv8ImageConverter()(path)
        assert np.abs(pixels[0] - ref[f"{name}/auto"] / 255.0).max() <= LEVEL * (decode_max + 1)


def test_batch_shapes_follow_the_predictor(refs):
    """A batch of mixed sizes is padded to 640 x 640; equal sizes keep the minimum
    rectangle (ultralytics' BasePredictor.pre_transform)."""
    ref, cases = refs
    converter = YOLOv8ImageConverter()
    mixed = converter([ref[f"{name}/input"] for name in cases["cases"]])
    assert mixed.shape == (len(cases["cases"]), 640, 640, 3)
    for pixels, name in zip(mixed, cases["cases"]):
        assert np.abs(pixels - ref[f"mixed/{name}"] / 255.0).max() <= LEVEL, name
    same = converter(np.stack([ref["bus/input"]] * 2))  # a 4-D batch of one size
    assert same.shape == (2, *ref["same/0"].shape)
    for pixels, i in zip(same, range(2)):
        assert np.abs(pixels - ref[f"same/{i}"] / 255.0).max() <= LEVEL


def test_boxes_to_original_matches_scale_boxes(refs):
    ref, cases = refs
    converter = YOLOv8ImageConverter()
    for name in cases["cases"]:
        _, info = converter.letterbox(ref[f"{name}/input"])
        got = converter.boxes_to_original(ref[f"{name}/boxes"], info)  # (D, 4)
        assert got.shape == (20, 4) and got.dtype == np.float32
        np.testing.assert_allclose(got, ref[f"{name}/scaled"], atol=1e-4, rtol=0, err_msg=name)
    images = [ref[f"{name}/input"] for name in cases["cases"]]
    _, info = converter.letterbox(images)  # mixed sizes: every image padded to 640 x 640
    boxes = np.stack([ref[f"{name}/full_boxes"] for name in cases["cases"]])  # (B, 20, 4)
    counts = np.arange(len(images)) + 3
    boxes[np.arange(20)[None] >= counts[:, None]] = -1  # detect's padding rows
    got = converter.boxes_to_original(boxes, info, num_detections=counts)
    for row, count, name in zip(got, counts, cases["cases"]):
        np.testing.assert_allclose(row[:count], ref[f"{name}/full_scaled"][:count], atol=1e-4,
                                   rtol=0, err_msg=name)
        assert np.all(row[count:] == -1), name


def test_boxes_to_original_shapes():
    converter = YOLOv8ImageConverter()
    _, info = converter.letterbox(np.zeros((100, 200, 3), np.uint8))  # -> 320 x 640, top 0
    assert isinstance(info, LetterboxInfo) and info.shape == (320, 640)
    assert info.padding.tolist() == [[0, 0]] and info.gains.tolist() == [[3.2, 3.2]]
    got = converter.boxes_to_original([[[32, 32, 64, 64], [-1, -1, -1, -1]]], info,
                                      num_detections=1)
    np.testing.assert_allclose(got, [[[10, 10, 20, 20], [-1, -1, -1, -1]]])
    with pytest.raises(ValueError, match="boxes"):
        converter.boxes_to_original(np.zeros((2, 3, 4)), info)
    with pytest.raises(ValueError, match="boxes"):
        converter.boxes_to_original(np.zeros((3, 5)), info)


def test_config_round_trip_and_registration():
    converter = YOLOv8ImageConverter(image_size=(480, 640), stride=64, pad_value=0,
                                     scaleup=False, auto=False)
    config = json.loads(json.dumps(converter.get_config()))
    assert config == {"image_size": [480, 640], "stride": 64, "pad_value": 0,
                      "scaleup": False, "auto": False}
    assert YOLOv8ImageConverter.from_config(config).get_config() == config
    again = serialization.deserialize(json.loads(json.dumps(serialization.serialize(converter))))
    assert type(again) is YOLOv8ImageConverter and again.get_config() == config
    assert serialization.get_class("YOLOv8ImageConverter") is YOLOv8ImageConverter
    assert YOLOv8ImageConverter().get_config()["image_size"] == [640, 640]
    assert again(np.zeros((10, 10, 3), np.uint8)).shape == (1, 480, 640, 3)
    for bad in ({"image_size": 0}, {"image_size": (640, 640, 3)}, {"stride": -32},
                {"pad_value": 300}, {"pad_value": 114.5}, {"image_size": "640"},
                {"image_size": None}, {"stride": (32, 32)}):
        with pytest.raises(ValueError):
            YOLOv8ImageConverter(**bad)


def test_input_forms(tmp_path):
    rng = np.random.default_rng(0)
    rgb = rng.integers(0, 256, (50, 70, 3), dtype=np.uint8)
    gray = rgb[..., 0]
    path = str(tmp_path / "image.png")
    Image.fromarray(rgb).save(path)
    converter = YOLOv8ImageConverter()
    expected = converter(rgb)
    for same in (path, tmp_path / "image.png", Image.fromarray(rgb), rgb.astype(np.float32),
                 rgb.astype(np.int64), np.dstack([rgb, np.full_like(gray, 7)]),
                 Image.fromarray(np.dstack([rgb, gray]), "RGBA"), [rgb], (path,), rgb[None]):
        np.testing.assert_array_equal(converter(same), expected)
    gray3 = converter(np.dstack([gray] * 3))
    for same in (gray, gray[..., None], Image.fromarray(gray), Image.fromarray(gray).convert("P")):
        np.testing.assert_array_equal(converter(same), gray3)
    sixteen = Image.fromarray(gray.astype(np.uint16) * 257)
    np.testing.assert_array_equal(image_io.load_images(sixteen)[0][0], np.dstack([gray] * 3))
    images, batched = image_io.load_images([rgb, path, gray[:20, :30], Image.fromarray(rgb)])
    assert batched and [x.shape for x in images] == [(50, 70, 3)] * 2 + [(20, 30, 3), (50, 70, 3)]
    assert all(x.dtype == np.uint8 for x in images)
    assert converter([rgb, gray[:20, :30]]).shape == (2, 640, 640, 3)
    assert not image_io.load_images(rgb)[1] and image_io.load_images(rgb[None])[1]
    for raw in (rgb, rgb[None], path, [path], Image.fromarray(rgb)):
        assert converter.accepts(raw)


def test_exif_orientation_is_applied(tmp_path):
    """Orientation 6 (rotate 90 degrees clockwise to display): a 40 x 20 JPEG whose left
    half is red decodes as 20 wide, 40 high, red on top."""
    pixels = np.zeros((20, 40, 3), np.uint8)
    pixels[:, :20, 0] = 255
    pixels[:, 20:, 2] = 255
    exif = Image.Exif()
    exif[0x0112] = 6
    path = tmp_path / "rotated.jpg"
    Image.fromarray(pixels).save(path, exif=exif, quality=95)
    (image,), _ = image_io.load_images(path)
    assert image.shape == (40, 20, 3)
    assert image[:15, :, 0].mean() > 200 and image[25:, :, 2].mean() > 200


def _truncated(tmp_path, fmt):
    rng = np.random.default_rng(0)
    path = tmp_path / f"cut.{fmt}"
    Image.fromarray(rng.integers(0, 256, (64, 64, 3), dtype=np.uint8)).save(path)
    data = path.read_bytes()
    path.write_bytes(data[:len(data) // 2])
    return str(path)


@pytest.mark.parametrize("fmt", ["jpg", "png"])
def test_truncated_file_is_an_error_naming_it(tmp_path, fmt):
    path = _truncated(tmp_path, fmt)
    with pytest.raises(image_io.ImageError, match=f"images\\[1\\] \\(image file '.*cut.{fmt}'"):
        image_io.load_images([np.zeros((4, 4, 3), np.uint8), path])


def test_missing_file_directory_and_not_an_image(tmp_path):
    missing = str(tmp_path / "missing.jpg")
    with pytest.raises(FileNotFoundError, match="missing.jpg.*does not exist") as error:
        image_io.load_images(missing)
    assert isinstance(error.value, ValueError)
    with pytest.raises(image_io.ImageError, match="directory"):
        image_io.load_images(str(tmp_path))
    text = tmp_path / "notes.jpg"
    text.write_text("not an image")
    with pytest.raises(image_io.ImageError, match="notes.jpg.*could not be read"):
        image_io.load_images(text)


@pytest.mark.parametrize("bad, message", [
    (np.zeros((0, 5, 3), np.uint8), "empty"),
    (np.zeros((5, 0), np.uint8), "empty"),
    (np.zeros((10,), np.uint8), "shape"),
    (np.zeros((1, 2, 3, 4, 3), np.uint8), "shape"),
    (np.zeros((5, 5, 2), np.uint8), "shape"),
    (np.full((5, 5, 3), 256.0), "within \\[0, 255\\]"),
    (np.full((5, 5, 3), -0.5), "within \\[0, 255\\]"),
    (np.full((5, 5, 3), np.nan), "NaN"),
    (np.zeros((5, 5, 3), bool), "dtype"),
    (3, "expected an image"),
])
def test_bad_arrays_are_errors_naming_the_argument(bad, message):
    with pytest.raises(image_io.ImageError, match=f"images: .*{message}"):
        image_io.load_images(bad)
    with pytest.raises(image_io.ImageError, match=f"images\\[1\\]: .*{message}"):
        image_io.load_images([np.zeros((4, 4, 3), np.uint8), bad])


def test_empty_inputs_are_errors():
    for empty in ([], (), np.zeros((0, 8, 8, 3), np.uint8)):
        with pytest.raises(image_io.ImageError, match="empty batch"):
            image_io.load_images(empty)
    with pytest.raises(image_io.ImageError, match="images: .*empty"):
        image_io.load_images(Image.new("RGB", (0, 5)))
