"""Tiled encodes in parts (hiner.h, "Tiled encodes in parts") over ctypes: a tile's
statistics, the plan, a tile encoded from its training window's pixels, the head and the
tail; a file is the head, the runs in tile order, then the tail (assemble)."""
import ctypes

import numpy as np

from . import _lib as L


def params(**fields):
    """hiner_params with the library's defaults and the given fields set (hiner.h names)."""
    p = L.Params()
    L.check(L.lib().hiner_params_init(L.byref(p), L.ABI_VERSION), what='hiner_params_init')
    for k, v in fields.items():
        if k == 'strides':
            p.n_stages = len(v)
            for i, s in enumerate(v):
                p.strides[i] = s
        elif not hasattr(p, k) or k.startswith('reserved'):
            raise TypeError('hiner_params has no field %r' % k)
        else:
            setattr(p, k, v)
    return p


def params_bytes(p):
    """p as bytes for another machine: the callbacks cleared (the same library reads it)."""
    q = L.Params.from_buffer_copy(bytes(p))
    q.progress = L.PROGRESS_FN()
    q.progress_user = None
    q.log = L.LOG_FN()
    q.log_user = None
    return bytes(q)


def params_from_bytes(b):
    if len(b) != ctypes.sizeof(L.Params):
        raise ValueError('hiner_params of %d bytes, this library has %d'
                         % (len(b), ctypes.sizeof(L.Params)))
    return L.Params.from_buffer_copy(b)


class Pixels:
    """A pointer to samples for one call: bytes, bytearray, memoryview or a numpy array,
    checked against the size the call reads."""

    def __init__(self, data, nbytes, what):
        if isinstance(data, np.ndarray):
            data = np.ascontiguousarray(data)
            self.keep = data
            self.ptr = ctypes.c_void_p(data.ctypes.data)
            n = data.nbytes
        elif isinstance(data, bytes):
            self.keep = data
            self.ptr = ctypes.cast(ctypes.c_char_p(data), ctypes.c_void_p)
            n = len(data)
        else:
            mv = memoryview(data).cast('B')
            if mv.readonly:
                return self.__init__(mv.tobytes(), nbytes, what)
            buf = (ctypes.c_char * mv.nbytes).from_buffer(mv)
            self.keep = (mv, buf)
            self.ptr = ctypes.cast(buf, ctypes.c_void_p)
            n = mv.nbytes
        if n != nbytes:
            raise ValueError('%s: %d bytes of samples, expected %d' % (what, n, nbytes))


class Tiler(L.Handle):
    """A hiner_tiler. Tiler.create plans a scene (statistics added, then plan());
    Tiler.load reads a planned one saved by another process (save()), to encode tiles."""

    def __init__(self, handle, dll, bands, dtype, owned=True):
        self._h = ctypes.c_void_p(handle)
        self._dll = dll
        self._owned = owned
        self.bands = bands
        self.dtype = np.dtype(dtype)
        self._log = L.LogCollector()
        if owned:  # errors' details into the exceptions
            L.check(dll.hiner_tiler_set_callbacks(self._h, L.PROGRESS_FN(), None, self._log.fn,
                                                  None))
        rect, _ = self.window(self.count - 1)  # the last tile ends at the raster's corner
        self.width, self.height = rect[0] + rect[2], rect[1] + rect[3]

    @classmethod
    def create(cls, shape, dtype, p=None, nodata=None, wavelengths=None, dll=None):
        """A tiler for a (bands, height, width) cube of numpy dtype `dtype`; p: a
        hiner_params (params()) whose size target and tile size apply."""
        dll = dll or L.lib()
        cube = L.Cube.describe(shape, np.dtype(dtype).name, nodata, wavelengths)
        p = p if p is not None else params()
        log = L.LogCollector()
        q = L.Params.from_buffer_copy(bytes(p))
        q.log = log.fn
        h = ctypes.c_void_p()
        L.check(dll.hiner_tiler_create(L.byref(cube), L.byref(q), L.byref(h)), log.take(),
                'hiner_tiler_create')
        return cls(h.value, dll, shape[0], dtype)

    @classmethod
    def load(cls, blob, bands, dtype, dll=None):
        """A planned tiler from save()'s bytes (the same library version), for a cube of
        `bands` bands of numpy dtype `dtype`."""
        dll = dll or L.lib()
        h = ctypes.c_void_p()
        L.check(dll.hiner_tiler_load(blob, len(blob), L.byref(h)), what='hiner_tiler_load')
        return cls(h.value, dll, bands, dtype)

    def close(self):
        if self._h and self._owned:
            self._dll.hiner_tiler_free(self._h)
        self._h = None

    @property
    def handle(self):
        return self._h

    @property
    def count(self):
        return int(self._dll.hiner_tiler_count(self._h))

    def window(self, t):
        """((x0, y0, w, h) of tile t's pixels, (x0, y0, w, h) of its training window)."""
        rect = (ctypes.c_uint32 * 4)()
        train = (ctypes.c_uint32 * 4)()
        L.check(self._dll.hiner_tiler_window(self._h, t, rect, train), what='tile %d' % t)
        return tuple(rect), tuple(train)

    def _check(self, st, what):
        L.check(st, self._log.take(), what)

    def _pixels(self, data, rect, t):
        return Pixels(data, self.bands * rect[2] * rect[3] * self.dtype.itemsize, 'tile %d' % t)

    def stats(self, t, pixels):
        """Tile t's statistics (bytes) from its pixels: (bands, h, w) samples."""
        px = self._pixels(pixels, self.window(t)[0], t)
        blob, size = ctypes.c_void_p(), ctypes.c_size_t()
        self._check(self._dll.hiner_tiler_stats(self._h, t, px.ptr, L.byref(blob),
                                                L.byref(size)), 'tile %d statistics' % t)
        return L.take(self._dll, blob.value, size.value)

    def add_stats(self, blob):
        self._check(self._dll.hiner_tiler_add_stats(self._h, blob, len(blob)),
                    'adding statistics')

    def plan(self, meta=None):
        """With every tile's statistics: the plan. meta: a hiner.Meta or None."""
        m = meta.struct() if meta is not None else None
        self._check(self._dll.hiner_tiler_plan(self._h, L.byref(m) if m else None),
                    'planning the tiles')

    def save(self):
        blob, size = ctypes.c_void_p(), ctypes.c_size_t()
        self._check(self._dll.hiner_tiler_save(self._h, L.byref(blob), L.byref(size)),
                    'hiner_tiler_save')
        return L.take(self._dll, blob.value, size.value)

    def prior(self):
        """The tile to encode first (its trained weights start the other full tiles), or
        None."""
        p = int(self._dll.hiner_tiler_prior(self._h))
        return None if p < 0 else p

    def encode(self, t, pixels, prior=None, trained=False):
        """Tile t from its training window's pixels ((bands, h, w) samples): (run bytes,
        the trained weights as bytes when `trained` and t is the prior, else None)."""
        px = self._pixels(pixels, self.window(t)[1], t)
        run, run_size = ctypes.c_void_p(), ctypes.c_size_t()
        w, w_size = ctypes.c_void_p(), ctypes.c_size_t()
        pr = Pixels(prior, len(prior), 'prior') if prior is not None else None
        st = self._dll.hiner_tiler_encode(self._h, t, px.ptr, pr.ptr if pr else None,
                                          len(prior) if pr else 0, L.byref(run),
                                          L.byref(run_size),
                                          L.byref(w) if trained else None,
                                          L.byref(w_size) if trained else None)
        self._check(st, 'tile %d' % t)
        out = L.take(self._dll, run.value, run_size.value)
        wt = L.take(self._dll, w.value, w_size.value) if w.value else None
        return out, wt

    def head(self, run_sizes):
        """The head of the file for the runs' sizes in tile order."""
        sizes = (ctypes.c_uint64 * len(run_sizes))(*run_sizes)
        blob, size = ctypes.c_void_p(), ctypes.c_size_t()
        self._check(self._dll.hiner_tiler_head(self._h, sizes, L.byref(blob), L.byref(size)),
                    'hiner_tiler_head')
        return L.take(self._dll, blob.value, size.value)

    def tail(self):
        blob, size = ctypes.c_void_p(), ctypes.c_size_t()
        L.check(self._dll.hiner_tiler_tail(L.byref(blob), L.byref(size)), what='hiner_tiler_tail')
        return L.take(self._dll, blob.value, size.value)


def assemble(head, runs, tail):
    """The file's bytes: the head, the runs in tile order (bytes, empty for empty tiles),
    the tail."""
    return b''.join([head] + list(runs) + [tail])
