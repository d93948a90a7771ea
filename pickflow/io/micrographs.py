"""Reading and writing micrographs: MRC, TIFF, PNG and JPEG, always as 2-D float32 arrays.

Array convention everywhere in pickflow: ``image[y, x]``, y = row, x = column, as RELION reads the
file: MRC as stored, TIFF flipped along the slow axis (RELION, IMOD, EMAN2, SerialEM and MotionCor2
put a TIFF's last row first, because MRC's origin is bottom-left and TIFF's top-left). So a
coordinate means the same particle in pickflow and in RELION.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

import mrcfile
import mrcfile.dtypes
import mrcfile.utils
import numpy as np

from ..errors import InputError
from .atomic import atomic_path

MRC_SUFFIXES = (".mrc", ".mrcs")
TIFF_SUFFIXES = (".tif", ".tiff")
RASTER_SUFFIXES = (".png", ".jpg", ".jpeg")
SUFFIXES = MRC_SUFFIXES + TIFF_SUFFIXES + RASTER_SUFFIXES


def micrograph_key(name: str | os.PathLike[str]) -> str:
    """Name used to match micrographs and coordinates: the basename without a known extension."""
    base = Path(str(name)).name
    lower = base.lower()
    for suffix in SUFFIXES:
        if lower.endswith(suffix):
            return base[: -len(suffix)]
    return base


def _check_suffix(path: Path) -> str:
    suffix = path.suffix.lower()
    if suffix not in SUFFIXES:
        raise InputError(
            f"{path}: unsupported micrograph format '{path.suffix}'. "
            f"Use one of {', '.join(SUFFIXES)} (convert other formats to MRC first)."
        )
    return suffix


def _squeeze_single_section(data: np.ndarray, path: Path) -> np.ndarray:
    if data.ndim == 3 and data.shape[0] == 1:
        return data[0]
    if data.ndim != 2:
        raise InputError(
            f"{path}: expected a single 2-D micrograph but found shape {data.shape}. "
            "Movies and stacks must be motion-corrected/split into one micrograph per file first."
        )
    return data


@dataclass(frozen=True)
class Header:
    """What a micrograph's header says: ``shape = (ny, nx)`` and, for MRC, the pixel size in Å (None when the
    header leaves it at 0)."""

    shape: tuple[int, int]
    pixel_size: float | None = None


_HEADER_DTYPES = {
    "<": mrcfile.dtypes.HEADER_DTYPE.newbyteorder("<"),
    ">": mrcfile.dtypes.HEADER_DTYPE.newbyteorder(">"),
}
_MACHINE_STAMP_OFFSET: int = mrcfile.dtypes.HEADER_DTYPE.fields["machst"][1]  # pyright: ignore[reportOptionalSubscript]


def _mrc_header_fields(raw: bytes) -> tuple[np.void, np.dtype]:
    """The 1024-byte MRC header ``raw`` as a record in the file's byte order, and its pixels' data type.

    The byte order is found as mrcfile finds it in permissive mode: from the machine stamp (little-endian where it
    is unreadable), or the other order where only that one gives a valid mode. Raise ValueError, naming the mode,
    where neither does.
    """
    try:
        order = mrcfile.utils.byte_order_from_machine_stamp(np.frombuffer(raw, np.uint8, 4, _MACHINE_STAMP_OFFSET))
    except ValueError:
        order = "<"
    first = np.frombuffer(raw, _HEADER_DTYPES[order])[0]
    try:
        return first, mrcfile.utils.dtype_from_mode(first["mode"])
    except ValueError as error:
        swapped = np.frombuffer(raw, _HEADER_DTYPES[">" if order == "<" else "<"])[0]
        try:
            return swapped, mrcfile.utils.dtype_from_mode(swapped["mode"])
        except ValueError:
            raise error from None  # names the mode as the file's own byte order reads it


def _mrc_header(path: Path) -> Header:
    """The header of an MRC file; raise if the file holds several sections or fewer bytes than it says.

    Reads the 1024 header bytes into a plain record (mrcfile's layout, not its file object): a first parse of a
    large project reads every micrograph's header, and this takes about a sixth of the time of ``mrcfile.open``.
    """
    with open(path, "rb") as handle:
        raw = handle.read(mrcfile.dtypes.HEADER_DTYPE.itemsize)
    if len(raw) < mrcfile.dtypes.HEADER_DTYPE.itemsize:
        raise InputError(f"{path}: {len(raw)} bytes, shorter than an MRC header (1024). Re-copy or re-export it.")
    header, dtype = _mrc_header_fields(raw)
    nx, ny, nz = int(header["nx"]), int(header["ny"]), int(header["nz"])
    itemsize = dtype.itemsize
    extended = int(header["nsymbt"])
    mx = int(header["mx"])
    voxel = float(header["cella"]["x"]) / mx if mx > 0 else 0.0
    if nz != 1:
        raise InputError(f"{path}: MRC has {nz} sections; pickflow needs one micrograph per file.")
    expected = mrcfile.dtypes.HEADER_DTYPE.itemsize + extended + nx * ny * itemsize
    size = path.stat().st_size
    if size < expected:
        raise InputError(
            f"{path}: truncated: the header describes {nx} x {ny} pixels ({expected} bytes) but the file has "
            f"{size} bytes. Re-copy or re-export it."
        )
    return Header((ny, nx), voxel if voxel > 0 else None)


def _tiff_shape(path: Path) -> tuple[int, int]:
    """``(ny, nx)`` from a TIFF's tags; raise if it holds several sections or its data runs past the end."""
    import tifffile

    with tifffile.TiffFile(path) as tif:
        shape = tif.series[0].shape
        page = tif.pages.first
        end = max((o + n for o, n in zip(page.dataoffsets, page.databytecounts, strict=True)), default=0)
    size = path.stat().st_size
    if end > size:
        raise InputError(f"{path}: truncated: its image data ends at byte {end} but the file has {size} bytes.")
    return tuple(_squeeze_single_section(np.empty(shape, dtype=np.uint8), path).shape)  # type: ignore[return-value]


def read_shape(path: str | os.PathLike[str]) -> tuple[int, int]:
    """Return ``(ny, nx)`` from the file header without reading the pixels (see :func:`read_header`)."""
    return read_header(path).shape


def read_header(path: str | os.PathLike[str]) -> Header:
    """Read the file header without the pixels.

    Also a cheap check of the file: empty, unreadable header, several sections, or (MRC, TIFF)
    fewer bytes than the header describes raise :class:`InputError` naming the file.
    """
    path = Path(path)
    suffix = _check_suffix(path)
    try:
        if path.stat().st_size == 0:
            raise InputError(f"{path}: empty file (0 bytes). Re-copy or re-export it.")
        if suffix in MRC_SUFFIXES:
            return _mrc_header(path)
        if suffix in TIFF_SUFFIXES:
            return Header(_tiff_shape(path))
        from PIL import Image

        with Image.open(path) as img:
            return Header((img.height, img.width))
    except InputError:
        raise
    except Exception as exc:
        raise InputError(f"{path}: cannot read the micrograph header ({exc}). Is the file complete?") from exc


def read_micrograph(path: str | os.PathLike[str]) -> np.ndarray:
    """Read a micrograph as a 2-D float32 array and check that its pixels are usable."""
    path = Path(path)
    suffix = _check_suffix(path)
    if not path.is_file():
        raise InputError(f"{path}: micrograph file not found. Check micrographs.path in config.yaml.")
    try:
        if suffix in MRC_SUFFIXES:
            with mrcfile.open(path, permissive=False) as mrc:
                data = np.asarray(mrc.data)
        elif suffix in TIFF_SUFFIXES:
            data = _read_tiff(path)
        else:
            from PIL import Image

            with Image.open(path) as img:
                data = np.asarray(img.convert("F"))
    except InputError:
        raise
    except Exception as exc:
        raise InputError(
            f"{path}: cannot read the micrograph ({exc}). The file may be truncated or corrupt; "
            "re-export or re-copy it, or remove it from the micrograph list."
        ) from exc
    data = _squeeze_single_section(data, path)
    if np.iscomplexobj(data):
        raise InputError(f"{path}: complex-valued MRC (mode 3/4) is not a micrograph.")
    image = data.astype(np.float32, copy=True)
    check_pixels(image, path)
    return image


def _read_tiff(path: Path) -> np.ndarray:
    """A TIFF's pixels in RELION's orientation (flipped along the slow axis); a clear error when the
    compression needs the imagecodecs package and it is missing."""
    import tifffile

    try:
        data = tifffile.imread(path)
    except (ValueError, ImportError) as exc:
        if "imagecodecs" not in str(exc) and getattr(exc, "name", None) not in ("imagecodecs", "compression"):
            raise
        raise InputError(
            f"{path}: this TIFF's compression needs a codec from the imagecodecs package, which is not installed "
            f"({exc}). Install the pinned version: pip install -r requirements.txt (imagecodecs)."
        ) from exc
    return np.flip(data, axis=-2)


def check_pixels(image: np.ndarray, path: str | os.PathLike[str]) -> None:
    """Raise if the image has NaN/inf pixels or no contrast at all."""
    finite = np.isfinite(image)
    if not finite.all():
        bad = int(image.size - np.count_nonzero(finite))
        raise InputError(f"{path}: {bad} pixels are NaN or infinite. Re-run motion correction or drop this micrograph.")
    if float(image.std()) == 0.0:
        raise InputError(f"{path}: every pixel has the same value (zero variance). Drop this micrograph.")


def write_mrc(path: str | os.PathLike[str], image: np.ndarray, pixel_size: float) -> None:
    """Write ``image`` as a float32 MRC (mode 2) with the given pixel size in Å, atomically."""
    with atomic_path(path) as tmp:
        with mrcfile.new(tmp, overwrite=True) as mrc:
            mrc.set_data(np.ascontiguousarray(image, dtype=np.float32))
            mrc.voxel_size = pixel_size
