"""Reading micrographs: MRC modes, stacks, corrupt files, TIFF/PNG/JPEG and micrograph keys."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import mrcfile
import numpy as np
import pytest
import tifffile
from PIL import Image

from pickflow.errors import InputError
from pickflow.io.micrographs import Header, micrograph_key, read_header, read_micrograph, read_shape, write_mrc

REPO = Path(__file__).resolve().parents[2]


def _write_mrc(path, data):
    with mrcfile.new(path, overwrite=True) as mrc:
        mrc.set_data(data)
    return path


def test_real_mrc_reads_as_float32_2d(real_mrc):
    image = read_micrograph(real_mrc)
    assert image.dtype == np.float32
    assert image.shape == (927, 959)
    # SOURCE.md: values ~6768-6822, not normalised
    assert 6700 < float(image.mean()) < 6900
    assert float(image.std()) > 0


def test_read_shape_reads_only_the_header(real_mrc, monkeypatch):
    import pickflow.io.micrographs as module

    reads = []

    class Recording:
        def __init__(self, handle):
            self.handle = handle

        def __enter__(self):
            return self

        def __exit__(self, *exc):
            self.handle.close()

        def read(self, size=-1):
            reads.append(size)
            return self.handle.read(size)

    monkeypatch.setattr(module, "open", lambda path, mode="r": Recording(open(path, mode)), raising=False)
    assert read_shape(real_mrc) == (927, 959)
    assert reads == [1024]


def _rewrite_header(path, offset, value):
    raw = bytearray(path.read_bytes())
    raw[offset : offset + len(value)] = value
    path.write_bytes(bytes(raw))


def test_mrc_header_in_either_byte_order_and_with_a_wrong_machine_stamp(tmp_path, rng):
    """Big-endian files, and files whose machine stamp names the wrong byte order (seen in the wild), give the same
    shape and pixel size as mrcfile reads; a header shorter than 1024 bytes names the file."""
    data = rng.normal(size=(20, 30)).astype(">f4")
    path = tmp_path / "big.mrc"
    with mrcfile.new(path) as mrc:
        mrc.set_data(data)
        mrc.voxel_size = 2.5
    assert path.read_bytes()[212:214] == b"\x11\x11"  # written big-endian
    assert read_header(path) == Header((20, 30), 2.5)
    _rewrite_header(path, 212, b"\x44\x44\x00\x00")  # the little-endian stamp on a big-endian header
    assert read_header(path) == Header((20, 30), 2.5)
    path.write_bytes(path.read_bytes()[:100])
    with pytest.raises(InputError, match=r"big\.mrc: 100 bytes, shorter than an MRC header"):
        read_header(path)


def test_mrc_without_sampling_has_no_pixel_size(tmp_path, rng):
    path = _write_mrc(tmp_path / "m.mrc", rng.normal(size=(20, 30)).astype(np.float32))
    _rewrite_header(path, 40, np.float32(50.0).tobytes())  # cell length 50 Å
    _rewrite_header(path, 28, np.int32(0).tobytes())
    assert read_header(path).pixel_size is None  # mx = 0: no sampling, no pixel size (not 50 / 0)
    _rewrite_header(path, 28, np.int32(25).tobytes())
    assert read_header(path).pixel_size == 2.0


@pytest.mark.parametrize(
    ("mode", "dtype"),
    [(0, np.int8), (1, np.int16), (2, np.float32), (6, np.uint16), (12, np.float16)],
)
def test_mrc_modes_round_trip(tmp_path, mode, dtype):
    rng = np.random.default_rng(mode)
    if np.issubdtype(dtype, np.integer):
        info = np.iinfo(dtype)
        data = rng.integers(max(info.min, -100), min(info.max, 100) + 1, size=(12, 17)).astype(dtype)
    else:
        data = rng.normal(0, 3, size=(12, 17)).astype(dtype)
    path = _write_mrc(tmp_path / f"mode{mode}.mrc", data)
    with mrcfile.open(path, header_only=True) as mrc:
        assert int(mrc.header.mode) == mode
    image = read_micrograph(path)
    assert image.dtype == np.float32
    assert image.shape == (12, 17)
    np.testing.assert_array_equal(image, data.astype(np.float32))
    assert read_shape(path) == (12, 17)


def test_write_mrc_round_trip(tmp_path, rng):
    data = rng.normal(size=(9, 11)).astype(np.float32)
    path = tmp_path / "out" / "w.mrc"
    write_mrc(path, data, pixel_size=2.5)
    np.testing.assert_array_equal(read_micrograph(path), data)
    with mrcfile.open(path) as mrc:
        assert float(mrc.voxel_size.x) == pytest.approx(2.5)
    assert sorted(p.name for p in path.parent.iterdir()) == ["w.mrc"]


def test_single_section_stack_reads_as_2d(tmp_path, rng):
    data = rng.normal(size=(1, 10, 14)).astype(np.float32)
    path = _write_mrc(tmp_path / "one.mrcs", data)
    image = read_micrograph(path)
    assert image.shape == (10, 14)
    np.testing.assert_array_equal(image, data[0])
    assert read_shape(path) == (10, 14)


def test_two_section_stack_is_rejected(tmp_path, rng):
    path = _write_mrc(tmp_path / "two.mrcs", rng.normal(size=(2, 10, 14)).astype(np.float32))
    with pytest.raises(InputError, match=r"two\.mrcs") as err:
        read_micrograph(path)
    assert "(2, 10, 14)" in str(err.value)
    with pytest.raises(InputError, match="2 sections"):
        read_shape(path)


def test_truncated_mrc_names_the_file(tmp_path, rng):
    path = _write_mrc(tmp_path / "cut.mrc", rng.normal(size=(32, 32)).astype(np.float32))
    raw = path.read_bytes()
    path.write_bytes(raw[:-100])
    with pytest.raises(InputError, match=r"cut\.mrc") as err:
        read_micrograph(path)
    assert "truncated or corrupt" in str(err.value)


@pytest.mark.filterwarnings("ignore:Data array contains NaN:RuntimeWarning")
def test_nan_pixels_raise_naming_the_file(tmp_path, rng):
    data = rng.normal(size=(8, 8)).astype(np.float32)
    data[2, 3] = np.nan
    data[5, 5] = np.inf
    path = _write_mrc(tmp_path / "nan.mrc", data)
    with pytest.raises(InputError, match=r"nan\.mrc") as err:
        read_micrograph(path)
    assert "2 pixels are NaN or infinite" in str(err.value)


def test_constant_image_raises_naming_the_file(tmp_path):
    path = _write_mrc(tmp_path / "flat.mrc", np.full((8, 8), 3.0, dtype=np.float32))
    with pytest.raises(InputError, match=r"flat\.mrc") as err:
        read_micrograph(path)
    assert "zero variance" in str(err.value)


def _bright_pixel_image(dtype=np.uint8):
    image = np.full((12, 20), 10, dtype=dtype)
    image[3, 7] = 250
    return image


@pytest.mark.parametrize("suffix", [".tif", ".tiff"])
def test_tiff_shape_and_relions_orientation(tmp_path, suffix):
    """RELION flips TIFF along the slow axis: the TIFF's row 3 of 12 is row 8 for RELION, and for pickflow."""
    path = tmp_path / f"mic{suffix}"
    data = _bright_pixel_image(np.uint16)
    tifffile.imwrite(path, data)
    image = read_micrograph(path)
    assert image.dtype == np.float32
    assert image.shape == (12, 20)
    assert np.unravel_index(np.argmax(image), image.shape) == (8, 7)
    np.testing.assert_array_equal(image, data[::-1].astype(np.float32))
    assert read_shape(path) == (12, 20)


def test_tiff_and_mrc_of_the_same_array_differ_by_the_flip_relion_applies(tmp_path):
    """An asymmetric image: the same particle lies at (x, y) in the MRC and at (x, ny - 1 - y) in the TIFF."""
    data = _bright_pixel_image(np.uint16)
    tifffile.imwrite(tmp_path / "a.tif", data)
    with mrcfile.new(tmp_path / "a.mrc") as mrc:
        mrc.set_data(data)
    np.testing.assert_array_equal(read_micrograph(tmp_path / "a.mrc")[3, 7], 250)
    np.testing.assert_array_equal(read_micrograph(tmp_path / "a.tif")[12 - 1 - 3, 7], 250)


def test_tiff_float_single_page_stack(tmp_path, rng):
    path = tmp_path / "stack.tif"
    data = rng.normal(size=(1, 6, 9)).astype(np.float32)
    tifffile.imwrite(path, data)
    np.testing.assert_array_equal(read_micrograph(path), data[0, ::-1])
    assert read_shape(path) == (6, 9)


@pytest.mark.parametrize("compression", ["lzw", "zstd", "deflate"])
def test_compressed_tiff_reads_like_uncompressed(tmp_path, rng, compression):
    data = rng.integers(0, 4000, size=(40, 56)).astype(np.uint16)
    tifffile.imwrite(tmp_path / "plain.tif", data)
    tifffile.imwrite(tmp_path / "packed.tif", data, compression=compression)
    np.testing.assert_array_equal(read_micrograph(tmp_path / "packed.tif"), read_micrograph(tmp_path / "plain.tif"))


def test_lzw_tiff_without_imagecodecs_names_the_missing_codec(tmp_path, rng):
    """A Python where imagecodecs cannot be imported: the error names the package, not a corrupt file."""
    tifffile.imwrite(tmp_path / "lzw.tif", rng.integers(0, 9, size=(8, 8)).astype(np.uint16), compression="lzw")
    code = (
        "import sys; sys.modules['imagecodecs'] = None\n"
        "from pickflow.io.micrographs import read_micrograph\n"
        "from pickflow.errors import InputError\n"
        "try:\n    read_micrograph(sys.argv[1])\nexcept InputError as exc:\n    print(exc)\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", code, str(tmp_path / "lzw.tif")], capture_output=True, text=True, cwd=REPO, check=True
    )
    assert "lzw.tif" in result.stdout and "imagecodecs" in result.stdout and "LZW" in result.stdout
    assert "corrupt" not in result.stdout


@pytest.mark.parametrize("suffix", [".png", ".jpg", ".jpeg"])
def test_raster_shape_and_orientation(tmp_path, suffix):
    path = tmp_path / f"mic{suffix}"
    data = _bright_pixel_image()
    options = {} if suffix == ".png" else {"quality": 95}
    Image.fromarray(data).save(path, **options)
    image = read_micrograph(path)
    assert image.dtype == np.float32
    assert image.shape == (12, 20)
    assert np.unravel_index(np.argmax(image), image.shape) == (3, 7)
    if suffix == ".png":
        np.testing.assert_array_equal(image, data.astype(np.float32))
    assert read_shape(path) == (12, 20)


@pytest.mark.parametrize("name", ["mic.dm4", "mic.eer", "mic"])
def test_unsupported_suffix(tmp_path, name):
    path = tmp_path / name
    path.write_bytes(b"\0" * 64)
    with pytest.raises(InputError, match="unsupported micrograph format"):
        read_micrograph(path)
    with pytest.raises(InputError, match="unsupported micrograph format"):
        read_shape(path)


def test_missing_file(tmp_path):
    with pytest.raises(InputError, match=r"absent\.mrc: micrograph file not found"):
        read_micrograph(tmp_path / "absent.mrc")


@pytest.mark.parametrize(
    ("name", "key"),
    [
        ("a.mrc", "a"),
        ("dir/sub/b.MRC", "b"),
        ("/abs/path/c.mrcs", "c"),
        ("d.Mrcs", "d"),
        ("e.tif", "e"),
        ("x/e2.TIFF", "e2"),
        ("f.png", "f"),
        ("g.JPG", "g"),
        ("h.jpeg", "h"),
        ("MotionCorr/job003/Movies/mic_001.mrc", "mic_001"),
        ("name.with.dots.mrc", "name.with.dots"),
        ("i.mrc.mrc", "i.mrc"),
        ("dir/j.star", "j.star"),
        ("k", "k"),
    ],
)
def test_micrograph_key(name, key):
    assert micrograph_key(name) == key


def test_read_shape_finds_a_truncated_mrc_from_its_header_and_size(tmp_path, rng):
    """The header and the file size are enough to see that the pixel block is cut."""
    path = _write_mrc(tmp_path / "header.mrc", rng.normal(size=(20, 30)).astype(np.float32))
    assert read_shape(path) == (20, 30)
    path.write_bytes(path.read_bytes()[: 1024 + 16])
    with pytest.raises(InputError, match=r"header\.mrc: truncated: .* 30 x 20 pixels \(3424 bytes\) .* 1040 bytes"):
        read_shape(path)
    with pytest.raises(InputError, match=r"header\.mrc"):
        read_micrograph(path)


def test_read_shape_finds_a_truncated_tiff(tmp_path, rng):
    import tifffile

    path = tmp_path / "cut.tif"
    tifffile.imwrite(path, rng.normal(size=(40, 50)).astype(np.float32))
    assert read_shape(path) == (40, 50)
    path.write_bytes(path.read_bytes()[:-100])
    with pytest.raises(InputError, match=r"cut\.tif: truncated"):
        read_shape(path)


@pytest.mark.parametrize("name", ["empty.mrc", "empty.tif", "empty.png"])
def test_read_shape_names_an_empty_file(tmp_path, name):
    (tmp_path / name).write_bytes(b"")
    with pytest.raises(InputError, match=rf"{name}: empty file"):
        read_shape(tmp_path / name)
