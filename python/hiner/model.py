"""A cube encoded from numpy (hiner_encode_mem) and files opened and decoded: bands,
wavelengths, tiles and windows (hiner_open_file / hiner_open_mem, the *_as decoders)."""
import ctypes
from collections import namedtuple

import numpy as np

from . import _lib as L
from .tiler import params as make_params

Info = namedtuple('Info', 'width height bands dtype nodata has_mask has_encoder has_wavelengths '
                          'wavelength_min wavelength_max format bits bpppb training '
                          'tile_width tile_height tiles_x tiles_y')


class Meta:
    """What a file carries besides the pixels (hiner_meta): geotransform (6 numbers),
    crs_wkt, wavelength_units, fwhm (per band), band_descriptions, items: a list of
    (band or -1, domain, key, value)."""

    def __init__(self, geotransform=None, crs_wkt=None, wavelength_units=None, fwhm=None,
                 band_descriptions=None, items=()):
        self.geotransform = geotransform
        self.crs_wkt = crs_wkt
        self.wavelength_units = wavelength_units
        self.fwhm = fwhm
        self.band_descriptions = band_descriptions
        self.items = list(items)
        self._keep = None

    def struct(self):
        """The hiner_meta (valid while this object lives)."""
        m = L.Meta()
        keep = []

        def s(v):
            b = v.encode() if isinstance(v, str) else v
            keep.append(b)
            return b
        if self.geotransform is not None:
            m.has_geotransform = 1
            m.geotransform[:] = [float(v) for v in self.geotransform]
        if self.crs_wkt:
            m.crs_wkt = s(self.crs_wkt)
        if self.wavelength_units:
            m.wavelength_units = s(self.wavelength_units)
        if self.fwhm is not None:
            a = (ctypes.c_double * len(self.fwhm))(*[float(v) for v in self.fwhm])
            keep.append(a)
            m.fwhm = ctypes.cast(a, ctypes.POINTER(ctypes.c_double))
        if self.band_descriptions is not None:
            a = L.cstrings([d or '' for d in self.band_descriptions])
            keep.append(a)
            m.band_descriptions = ctypes.cast(a, ctypes.POINTER(ctypes.c_char_p))
        if self.items:
            a = (L.MetaItem * len(self.items))()
            for i, (band, dom, key, val) in enumerate(self.items):
                a[i].band, a[i].domain, a[i].key, a[i].value = band, s(dom), s(key), s(val)
            keep.append(a)
            m.n_items = len(self.items)
            m.items = ctypes.cast(a, ctypes.POINTER(L.MetaItem))
        self._keep = keep
        return m


def encode(cube, p=None, nodata=None, wavelengths=None, meta=None, **fields):
    """A .hiner file's bytes from a numpy cube (bands, height, width) of a type the format
    has (uint8 .. float64). p: hiner_params (hiner.params() or hiner.params_from_options());
    else the defaults with `fields` set (e.g. bpppb=0.2, epochs=50, tile_width=64).
    A cube larger than a tile is a tiled file, its tiles trained on p.threads threads."""
    cube = np.ascontiguousarray(cube)
    if cube.ndim != 3:
        raise ValueError('a cube is (bands, height, width)')
    if cube.dtype.name not in L.DTYPE_OF:
        raise ValueError('type %s is not one the format has' % cube.dtype)
    if p is None:
        p = make_params(**fields)
    elif fields:
        raise TypeError('give params or fields, not both')
    dll = L.lib()
    c = L.Cube.describe(cube.shape, cube.dtype.name, nodata, wavelengths)
    c.data = cube.ctypes.data
    log = L.LogCollector()
    q = L.Params.from_buffer_copy(bytes(p))
    q.log = log.fn
    q.progress = L.PROGRESS_FN()
    m = meta.struct() if meta is not None else None
    out, size = ctypes.c_void_p(), ctypes.c_size_t()
    L.check(dll.hiner_encode_mem(L.byref(c), L.byref(m) if m else None, L.byref(q),
                                 L.byref(out), L.byref(size), None), log.take(), 'encoding')
    return L.take(dll, out.value, size.value)


class Model(L.Handle):
    """A .hiner file opened for decoding: Model(path) or Model(data=bytes). Tiled files
    are read lazily: a tile's bytes when a decode first needs them."""

    def __init__(self, path=None, data=None, threads=1):
        self._dll = L.lib()
        h = ctypes.c_void_p()
        if data is not None:
            self._data = bytes(data)
            st = self._dll.hiner_open_mem(self._data, len(self._data), L.byref(h))
        else:
            st = self._dll.hiner_open_file(str(path).encode(), L.byref(h))
        L.check(st, what='opening %s' % ('the stream' if data is not None else path))
        self._h = h
        if threads != 1:
            self._dll.hiner_model_set_threads(self._h, threads)
        i = L.Info()
        L.check(self._dll.hiner_model_info(self._h, L.byref(i)))
        b = i.bits
        self.info = Info(i.width, i.height, i.bands, L.DTYPES[i.dtype],
                         i.nodata if i.has_nodata else None, bool(i.has_mask),
                         bool(i.has_encoder), bool(i.has_wavelengths), i.wavelength_min,
                         i.wavelength_max, (i.format_major, i.format_minor),
                         dict(header=b.header, metadata=b.metadata, decoder=b.decoder,
                              embeddings=b.embeddings, encoder=b.encoder, total=b.total),
                         i.bpppb, (i.training or b'').decode(), i.tile_width, i.tile_height,
                         i.tiles_x, i.tiles_y)

    def close(self):
        if getattr(self, '_h', None):
            self._dll.hiner_model_free(self._h)
        self._h = None

    @property
    def wavelengths(self):
        p = self._dll.hiner_model_wavelengths(self._h)
        return [p[i] for i in range(self.info.bands)] if p else None

    def _type(self, dtype):
        dt = np.dtype(dtype or self.info.dtype)
        return dt, L.DTYPE_OF[dt.name]

    def decode_band(self, band, dtype=None):
        """Stored band `band` (0-based) as (height, width) samples of dtype (the file's)."""
        dt, code = self._type(dtype)
        out = np.empty((self.info.height, self.info.width), dt)
        L.check(self._dll.hiner_model_decode_band_as(self._h, band, code, out.ctypes.data),
                what='band %d' % band)
        return out

    def decode_wavelength(self, wavelength, dtype=None):
        """The band at `wavelength` (through the spectral encoder)."""
        dt, code = self._type(dtype)
        out = np.empty((self.info.height, self.info.width), dt)
        L.check(self._dll.hiner_model_decode_wavelength_as(self._h, wavelength, code,
                                                           out.ctypes.data),
                what='wavelength %g' % wavelength)
        return out

    @staticmethod
    def _where(band, wavelength):
        if (band is None) == (wavelength is None):
            raise TypeError('give band or wavelength')
        return (0, float(band)) if band is not None else (1, float(wavelength))

    def tile_shape(self, tx, ty):
        i = self.info
        return (min(i.tile_height, i.height - ty * i.tile_height),
                min(i.tile_width, i.width - tx * i.tile_width))

    def decode_tile(self, tx, ty, band=None, wavelength=None, dtype=None):
        """Tile (tx, ty) of a band (by index or wavelength): only that tile is read and run."""
        by_wl, where = self._where(band, wavelength)
        dt, code = self._type(dtype)
        out = np.empty(self.tile_shape(tx, ty), dt)
        L.check(self._dll.hiner_model_decode_tile_as(self._h, tx, ty, by_wl, where, code,
                                                     out.ctypes.data),
                what='tile %d,%d' % (tx, ty))
        return out

    def decode_window(self, x0, y0, w, h, band=None, wavelength=None, dtype=None):
        """The window (x0, y0, w, h) of a band: only the tiles it touches are read and run."""
        by_wl, where = self._where(band, wavelength)
        dt, code = self._type(dtype)
        out = np.empty((h, w), dt)
        L.check(self._dll.hiner_model_decode_window_as(self._h, x0, y0, w, h, by_wl, where,
                                                       code, out.ctypes.data),
                what='window %d,%d %dx%d' % (x0, y0, w, h))
        return out
