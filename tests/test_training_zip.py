"""Image-folder zips: a good one becomes a data set; hostile ones are refused with one line."""

import io
import zipfile

import pytest
from PIL import Image

from explorer.training.data import DatasetError, zip_dataset


def _png(colour) -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (12, 10), colour).save(buffer, "PNG")
    return buffer.getvalue()


def _zip(files: dict, compression=zipfile.ZIP_DEFLATED) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression) as z:
        for name, data in files.items():
            z.writestr(name, data)
    return buffer.getvalue()


def test_good_zip_with_top_folder():
    files = {f"shapes/{c}/{i}.png": _png(colour) for c, colour in (("red", (255, 0, 0)), ("blue", (0, 0, 255)))
             for i in range(5)}
    files["__MACOSX/shapes/red/._0.png"] = b"junk"
    files["shapes/.DS_Store"] = b"junk"
    ds = zip_dataset(_zip(files), "shapes.zip", size=8)
    assert ds.classes == ["blue", "red"] and ds.name == "shapes"
    assert len(ds.train_y) + len(ds.val_y) == 10 and len(ds.val_y) == 2  # one per class
    assert ds.train_x.shape[1:] == (3, 8, 8)
    # Red images have R=1, B=0 before normalisation: the normalised red channel is higher for red.
    red = ds.train_x[ds.train_y == 1][:, 0].mean()
    blue = ds.train_x[ds.train_y == 0][:, 0].mean()
    assert red > blue


@pytest.mark.parametrize("files, message", [
    ({"a/1.png": _png((0, 0, 0)), "a/2.png": _png((0, 0, 0))}, "training needs at least 2"),
    ({"a/1.png": _png((0, 0, 0)), "a/2.png": _png((0, 0, 0)), "b/1.png": _png((1, 1, 1))}, "needs at least 2"),
    ({"a/1.png": _png((0, 0, 0)), "b/notes.txt": b"hello"}, "b/notes.txt: not a decodable image"),
    ({"../evil/1.png": _png((0, 0, 0))}, "points outside the archive"),
    ({"/abs/1.png": _png((0, 0, 0))}, "absolute or Windows path"),
    ({"loose.png": _png((0, 0, 0)), "a/1.png": _png((0, 0, 0))}, "not in a class folder"),
    ({}, "holds no files"),
])
def test_refused(files, message):
    with pytest.raises(DatasetError, match=message) as info:
        zip_dataset(_zip(files), "up.zip")
    assert "\n" not in str(info.value) and str(info.value).startswith("up.zip: ")


def test_zip_bomb_refused():
    bomb = _zip({"a/1.png": b"\0" * (3 * 2**20), "b/1.png": _png((0, 0, 0))})
    assert len(bomb) < 20_000  # 3 MiB of zeros compress about 1000x
    with pytest.raises(DatasetError, match="zip bomb"):
        zip_dataset(bomb, "bomb.zip")


def test_not_a_zip_and_too_many_files(monkeypatch):
    with pytest.raises(DatasetError, match="not a readable zip"):
        zip_dataset(b"PK\x03\x04 nonsense", "x.zip")
    import explorer.training.data as data

    monkeypatch.setattr(data, "MAX_FILES", 3)
    files = {f"a/{i}.png": b"x" for i in range(4)}
    with pytest.raises(DatasetError, match="4 entries; the limit is 3"):
        zip_dataset(_zip(files), "many.zip")
    monkeypatch.setattr(data, "MAX_ZIP_BYTES", 10)
    with pytest.raises(DatasetError, match="the limit is"):
        zip_dataset(b"x" * 11, "big.zip")
