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
    with pytest.raises(DatasetError, match="big.zip: the zip is over the .* limit"):
        zip_dataset(b"x" * 11, "big.zip")


# --- the server reads no zip's file list (issue #24) ----------------------------------------------

def _no_listing(*args, **kwargs):
    raise AssertionError("the zip's file list was read")


def test_only_the_job_lists_a_zip_and_it_refuses_too_many_entries_first(monkeypatch):
    """The estimate (in the server) reads the count the zip's end record declares; the job refuses a
    zip declaring more than 5,000 entries before zipfile lists them (1.1 million took 7.5 s)."""
    from explorer.training import data, work

    many = _zip({f"a/{i}.png": b"" for i in range(6000)})
    assert data.zip_directory(many) == (6000, sum(46 + len(f"a/{i}.png") for i in range(6000)))
    monkeypatch.setattr(zipfile, "ZipFile", _no_listing)
    assert work.dataset_images(("zip", many, "many.zip", 16)) == 5000
    assert work.dataset_images(("zip", b"not a zip", "x.zip", 16)) == 1  # refused in the job
    with pytest.raises(DatasetError, match="^many.zip: 6000 entries; the limit is 5000$"):
        zip_dataset(many, "many.zip")


def test_a_long_file_list_is_refused_before_it_is_listed(monkeypatch):
    from explorer.training import data

    long_names = _zip({f"a/{i}{'x' * 60_000}.png": b"" for i in range(20)})
    entries, directory = data.zip_directory(long_names)
    assert entries == 20 and directory == sum(46 + len(f"a/{i}{'x' * 60_000}.png") for i in range(20))
    monkeypatch.setattr(data, "MAX_DIRECTORY_BYTES", 2**20)
    monkeypatch.setattr(zipfile, "ZipFile", _no_listing)
    with pytest.raises(DatasetError, match=r"^names.zip: its list of files takes 1.2 MiB; the limit is 1 MiB$"):
        zip_dataset(long_names, "names.zip")


def test_zip64_end_records_are_read():
    """An archive whose classic end record says 0xFFFF / 0xFFFFFFFF (zip64): the counts come from
    its zip64 end record, as zipfile reads them."""
    from explorer.training import data

    limit = zipfile.ZIP_FILECOUNT_LIMIT
    zipfile.ZIP_FILECOUNT_LIMIT = 2  # zipfile then writes the zip64 records for 7 entries
    try:
        archive = bytearray(_zip({f"a/{i}.png": b"x" for i in range(7)}))
    finally:
        zipfile.ZIP_FILECOUNT_LIMIT = limit
    end = archive.rfind(b"PK\x05\x06")
    archive[end + 8:end + 16] = b"\xff\xff\xff\xff\xff\xff\xff\xff"  # both entry counts and the directory size
    assert len(zipfile.ZipFile(io.BytesIO(bytes(archive))).infolist()) == 7
    assert data.zip_directory(bytes(archive)) == (7, 7 * (46 + len("a/0.png")))
    with pytest.raises(ValueError):
        data.zip_directory(b"PK\x03\x04 no end record")


def test_the_train_page_checks_the_size_before_anything(monkeypatch):
    """A zip over 50 MiB (PUT past the picker's own limit): one line, no job, nothing read."""
    from pathlib import Path

    from streamlit.testing.v1 import AppTest

    from explorer import jobs

    submitted = []
    monkeypatch.setattr(jobs, "submit", lambda *a, **k: submitted.append(a))
    monkeypatch.setattr(zipfile, "ZipFile", _no_listing)
    app = AppTest.from_file(str(Path(__file__).resolve().parents[2] / "pages" / "train.py"), default_timeout=120)
    app.session_state["train_dataset"] = "zip"
    app.run()
    app.file_uploader(key="train_zip").upload("big.zip", b"PK" + b"\0" * (50 * 2**20), "application/zip").run()
    app.button(key="train_start").click().run()
    assert not app.exception and submitted == []
    assert [e.value for e in app.error] == ["big.zip: the zip is over the 50 MiB limit"]
