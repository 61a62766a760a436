"""Safe decoding: every supported format and mode becomes the RGB a viewer shows; bad files fail cleanly."""

import io

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from PIL import Image

from explorer.vision.images import ImageError, Limits, decode_image, load_image, load_sample


def encode(image: Image.Image, fmt: str, **kwargs) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, format=fmt, **kwargs)
    return buffer.getvalue()


def quadrants(width=40, height=20) -> Image.Image:
    """Red top-left, green top-right, blue bottom-left, white bottom-right."""
    a = np.zeros((height, width, 3), np.uint8)
    a[: height // 2, : width // 2] = (255, 0, 0)
    a[: height // 2, width // 2:] = (0, 255, 0)
    a[height // 2:, : width // 2] = (0, 0, 255)
    a[height // 2:, width // 2:] = (255, 255, 255)
    return Image.fromarray(a, "RGB")


@pytest.mark.parametrize("fmt,kwargs", [("PNG", {}), ("BMP", {}), ("TIFF", {}), ("WEBP", {"lossless": True}),
                                        ("GIF", {}), ("JPEG", {"quality": 95})])
def test_formats_decode_to_the_same_rgb(fmt, kwargs):
    source = quadrants()
    out = decode_image(encode(source, fmt, **kwargs), name=f"x.{fmt.lower()}")
    assert out.mode == "RGB" and out.size == (40, 20)
    tolerance = 12 if fmt == "JPEG" else 0
    # centres of the four quadrants
    for x, y in [(10, 5), (30, 5), (10, 15), (30, 15)]:
        assert np.abs(np.subtract(out.getpixel((x, y)), source.getpixel((x, y)))).max() <= tolerance


def test_exif_orientation_is_applied():
    source = quadrants(40, 20)
    exif = Image.Exif()
    exif[0x0112] = 6  # "rotate 90 CW to display" (EXIF 2.3, Orientation tag)
    out = decode_image(encode(source, "JPEG", quality=95, exif=exif.tobytes()))
    assert out.size == (20, 40)
    # after a clockwise quarter turn the red top-left quadrant is at the top right
    assert np.abs(np.subtract(out.getpixel((15, 10)), (255, 0, 0))).max() <= 12
    assert np.abs(np.subtract(out.getpixel((5, 10)), (0, 0, 255))).max() <= 12


def test_alpha_is_composited_on_white():
    rgba = Image.new("RGBA", (4, 4), (255, 0, 0, 128))
    out = decode_image(encode(rgba, "PNG"))
    # 255*a + 255*(1-a) for red; 0*a + 255*(1-a) = 127 for green and blue (a = 128/255)
    assert out.getpixel((0, 0)) == (255, 127, 127)
    la = Image.new("LA", (4, 4), (0, 0))  # fully transparent black -> white
    assert decode_image(encode(la, "PNG")).getpixel((1, 1)) == (255, 255, 255)


def test_palette_with_transparency():
    p = Image.new("P", (4, 4), 0)
    p.putpalette([0, 0, 0, 10, 200, 30] + [0] * (256 * 3 - 6))
    p.putpixel((1, 1), 1)
    out = decode_image(encode(p, "PNG", transparency=0))
    assert out.getpixel((0, 0)) == (255, 255, 255)  # transparent index over white
    assert out.getpixel((1, 1)) == (10, 200, 30)
    assert decode_image(encode(p, "GIF")).getpixel((1, 1)) == (10, 200, 30)


def test_16_bit_greyscale_is_scaled_not_clipped():
    values = np.array([[0, 257, 32896, 65535]], dtype=np.uint16)  # 0, 1, 128, 255 in 8 bits
    png = encode(Image.fromarray(values), "PNG")
    assert Image.open(io.BytesIO(png)).mode.startswith("I")  # really 16-bit on disk
    out = np.asarray(decode_image(png))
    assert out[0, :, 0].tolist() == [0, 1, 128, 255]
    assert (out[..., 0] == out[..., 1]).all() and (out[..., 1] == out[..., 2]).all()


def test_greyscale_and_cmyk():
    assert decode_image(encode(Image.new("L", (3, 3), 77), "PNG")).getpixel((0, 0)) == (77, 77, 77)
    cmyk = Image.new("CMYK", (8, 8), (255, 0, 0, 0))  # pure cyan
    out = decode_image(encode(cmyk, "JPEG", quality=95))
    assert np.abs(np.subtract(out.getpixel((4, 4)), (0, 255, 255))).max() <= 8


def test_gif_first_frame():
    frames = [Image.new("RGB", (8, 8), c) for c in [(255, 0, 0), (0, 0, 255)]]
    data = encode(frames[0], "GIF", save_all=True, append_images=frames[1:], duration=100)
    assert Image.open(io.BytesIO(data)).n_frames == 2
    assert decode_image(data).getpixel((3, 3)) == (255, 0, 0)


@pytest.mark.parametrize("data,needle", [
    (b"", "empty"),
    (b"hello, this is not an image at all", "not a decodable image"),
    (encode(quadrants(), "PNG")[:60], "truncated"),
    (encode(quadrants(200, 200), "JPEG")[:400], "truncated"),
    (encode(quadrants(), "ICO"), "not supported"),
])
def test_bad_files_give_one_line(data, needle):
    with pytest.raises(ImageError) as info:
        decode_image(data, name="upload.bin")
    message = str(info.value)
    assert needle in message and message.startswith("upload.bin: ") and "\n" not in message


def test_size_and_pixel_caps():
    data = encode(quadrants(100, 100), "PNG")
    with pytest.raises(ImageError, match="limit is"):
        decode_image(data, limits=Limits(max_bytes=len(data) - 1))
    with pytest.raises(ImageError, match="M pixels"):
        decode_image(data, limits=Limits(max_pixels=9_999))
    assert decode_image(data, limits=Limits(max_pixels=10_000)).size == (100, 100)


@pytest.mark.parametrize("pixels_limit", [1_000_000, 400_000])  # warning range, error range
def test_decompression_bomb_is_refused(monkeypatch, pixels_limit):
    bomb = encode(Image.new("L", (1000, 1000), 0), "PNG")  # 1 M pixels in ~1 KB
    assert len(bomb) < 10_000
    monkeypatch.setattr(Image, "MAX_IMAGE_PIXELS", pixels_limit // 2)
    with pytest.raises(ImageError, match="decompression bomb"):
        decode_image(bomb)


def test_samples():
    assert load_sample("chelsea").size == (451, 300)  # skimage.data.chelsea() is (300, 451, 3)
    assert load_sample("coffee").size == (600, 400)
    assert load_image("coffee").mode == "RGB"
    with pytest.raises(ImageError, match="unknown sample"):
        load_sample("nope")


@settings(max_examples=60, deadline=None)
@given(st.binary(min_size=0, max_size=2048))
def test_random_bytes_never_crash(data):
    try:
        out = decode_image(data)
    except ImageError as error:
        assert "\n" not in str(error)
    else:
        assert out.mode == "RGB"


@settings(max_examples=25, deadline=None)
@given(st.integers(0, 2000), st.sampled_from(["PNG", "JPEG", "GIF", "BMP", "WEBP"]))
def test_every_truncation_fails_cleanly(cut, fmt):
    data = encode(quadrants(64, 48), fmt)
    try:
        out = decode_image(data[:cut])
    except ImageError:
        pass
    else:
        assert out.size == (64, 48)


# --- the error box shows user text literally ------------------------------------------------------

def test_error_box_shows_a_markdown_file_name_literally():
    """A file name full of Markdown and HTML reaches the Explain page's error box as text: after
    CommonMark's backslash escapes are taken away it reads exactly as the name, and nothing that
    Markdown or HTML would act on (an image link, emphasis, a tag, a colour directive) is left."""
    import re
    from pathlib import Path

    from streamlit.testing.v1 import AppTest

    name = "![x](http://127.0.0.1:9/x.png) *b* <b>h</b> :red[r] _i_ &lt; $x$.png"
    page = str(Path(__file__).resolve().parents[2] / "pages" / "explain.py")
    at = AppTest.from_file(page, default_timeout=60)
    at.session_state["explain_model"] = "efficientnet_lite0"
    at.session_state["explain_source"] = "upload"
    at.run()
    at.file_uploader(key="explain_upload").upload(name, b"Dear user, this is text.\n" * 20, "image/png").run()
    assert not at.exception
    (value,) = [e.value for e in at.error]
    shown = re.sub(r"\\([!-/:-@\[-`{-~])", r"\1", value)  # what CommonMark displays for "\X"
    assert "http:\u2060//" in shown  # a word joiner (invisible) stops the bare address becoming a link
    shown = shown.replace("\u2060", "")
    assert shown == f"{name}: not a decodable image (expected BMP, GIF, JPEG, PNG, TIFF, WebP)"
    assert not re.search(r"(?<!\\)[\[\]*<>`$&]", value)
    assert not re.search(r"(?<![\\A-Za-z0-9])_|(?<!\\):(?=\S)", value)
