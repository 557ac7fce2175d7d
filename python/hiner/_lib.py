"""ctypes bindings of libhiner (include/hiner.h) and of the GDAL plugin's plan entry points
(driver/hinerplan.h): the structures, the signatures, loading, and errors.

Where the libraries are: HINER_LIBRARY and HINER_PLUGIN in the environment, else the paths
the build or the install wrote into _config.py, else the system's (ldconfig's libhiner,
GDAL_DRIVER_PATH and GDAL's plugin directory).
"""
import ctypes
import ctypes.util
import glob
import os

try:
    from . import _config
except ImportError:  # the source tree: no build wrote the paths
    _config = None

c_int, c_uint32, c_uint64 = ctypes.c_int, ctypes.c_uint32, ctypes.c_uint64
c_size_t, c_double, c_float = ctypes.c_size_t, ctypes.c_double, ctypes.c_float
c_void_p, c_char_p = ctypes.c_void_p, ctypes.c_char_p
POINTER, byref = ctypes.POINTER, ctypes.byref

ABI_VERSION = 2  # HINER_ABI_VERSION of the header these structures mirror
MAX_STAGES = 6

STATUS_NAMES = {
    0: 'HINER_OK', -1: 'HINER_E_GENERIC', -2: 'HINER_E_NOMEM', -3: 'HINER_E_INVALID_ARG',
    -4: 'HINER_E_CORRUPT', -5: 'HINER_E_TRUNCATED', -6: 'HINER_E_VERSION',
    -7: 'HINER_E_ABORTED', -8: 'HINER_E_IO', -9: 'HINER_E_UNSUPPORTED', -10: 'HINER_E_RANGE',
    -11: 'HINER_E_BUDGET', -12: 'HINER_E_ABI', -13: 'HINER_E_LIMIT', -14: 'HINER_E_NODATA',
}
E_INVALID_ARG, E_IO, E_BUDGET = -3, -8, -11

# hiner_dtype values (as in the file) and their numpy names
DTYPES = {1: 'uint8', 2: 'int8', 3: 'uint16', 4: 'int16', 5: 'uint32', 6: 'int32',
          7: 'float32', 8: 'float64'}
DTYPE_OF = {v: k for k, v in DTYPES.items()}

PROGRESS_FN = ctypes.CFUNCTYPE(c_int, c_double, c_char_p, c_void_p)
LOG_FN = ctypes.CFUNCTYPE(None, c_int, c_char_p, c_void_p)
READ_AT_FN = ctypes.CFUNCTYPE(c_int, c_void_p, c_uint64, c_void_p, c_size_t)


class Handle:
    """A wrapper of a C handle that close() frees: also at the end of a with block and when
    the object is collected."""

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    def __del__(self):
        try:
            self.close()
        except Exception:
            pass


class HinerError(RuntimeError):
    """A libhiner call failed: status (negative), its name, and the library's detail."""

    def __init__(self, status, message=''):
        self.status = status
        self.name = STATUS_NAMES.get(status, 'status %d' % status)
        super().__init__(message or self.name)

    def __reduce__(self):  # raised on a Dask worker, re-raised on the client
        return (type(self), (self.status, str(self)))


class Params(ctypes.Structure):
    """hiner_params; fields as in hiner.h."""
    _fields_ = [
        ('abi_version', c_uint32), ('bpppb', c_double), ('size_bytes', c_uint64),
        ('model_bytes', c_double), ('epochs', c_int), ('lr', c_float), ('warmup', c_float),
        ('w_l1', c_float), ('w_cam', c_float), ('seed', c_uint64), ('threads', c_int),
        ('quant_bits', c_int), ('n_stages', c_int), ('strides', c_int * MAX_STAGES),
        ('pad_height', c_int), ('pad_width', c_int), ('embed_height', c_int),
        ('embed_width', c_int), ('embed_channels', c_int), ('min_width', c_int),
        ('width_reduce', c_float), ('enc_freqs', c_int), ('enc_base', c_float),
        ('enc_hidden', c_int), ('store_encoder', c_int), ('entropy', c_int),
        ('qat_epochs', c_int), ('evaluate', c_int), ('progress', PROGRESS_FN),
        ('progress_user', c_void_p), ('log', LOG_FN), ('log_user', c_void_p),
        ('w_l2', c_float), ('max_kernel', c_int), ('tile_width', c_int),
        ('tile_height', c_int), ('tile_margin', c_int), ('effort', c_int),
        ('reserved', c_uint64 * 11),
    ]


class Cube(ctypes.Structure):
    """hiner_cube."""
    _fields_ = [
        ('width', c_uint32), ('height', c_uint32), ('bands', c_uint32), ('dtype', c_int),
        ('data', c_void_p), ('read_band', c_void_p), ('read_user', c_void_p),
        ('has_nodata', c_int), ('nodata', c_double), ('wavelengths', POINTER(c_double)),
        ('read_window', c_void_p), ('window_user', c_void_p),
    ]

    @classmethod
    def describe(cls, shape, dtype_name, nodata=None, wavelengths=None):
        """A hiner_cube for a (bands, height, width) cube without its pixels; the
        wavelengths' array lives as long as the cube."""
        C, H, W = shape
        c = cls()
        c.width, c.height, c.bands = W, H, C
        c.dtype = DTYPE_OF[dtype_name]
        if nodata is not None:
            c.has_nodata, c.nodata = 1, float(nodata)
        if wavelengths is not None:
            c._wl = (c_double * C)(*[float(v) for v in wavelengths])
            c.wavelengths = ctypes.cast(c._wl, POINTER(c_double))
        return c


class Gcp(ctypes.Structure):
    _fields_ = [('id', c_char_p), ('info', c_char_p), ('pixel', c_double),
                ('line', c_double), ('x', c_double), ('y', c_double), ('z', c_double)]


class MetaItem(ctypes.Structure):
    _fields_ = [('band', ctypes.c_int32), ('domain', c_char_p), ('key', c_char_p),
                ('value', c_char_p)]


class Meta(ctypes.Structure):
    """hiner_meta."""
    _fields_ = [
        ('has_geotransform', c_int), ('geotransform', c_double * 6), ('crs_wkt', c_char_p),
        ('n_gcps', c_uint32), ('gcps', POINTER(Gcp)), ('gcp_crs_wkt', c_char_p),
        ('band_descriptions', POINTER(c_char_p)), ('color_interp', POINTER(c_int)),
        ('n_items', c_uint32), ('items', POINTER(MetaItem)), ('wavelength_units', c_char_p),
        ('fwhm', POINTER(c_double)),
    ]


class Bits(ctypes.Structure):
    _fields_ = [(n, c_uint64) for n in ('header', 'metadata', 'decoder', 'embeddings',
                                         'encoder', 'total')]


class Info(ctypes.Structure):
    """hiner_info."""
    _fields_ = [
        ('width', c_uint32), ('height', c_uint32), ('bands', c_uint32), ('dtype', c_int),
        ('has_nodata', c_int), ('nodata', c_double), ('has_mask', c_int),
        ('has_encoder', c_int), ('has_wavelengths', c_int), ('wavelength_min', c_double),
        ('wavelength_max', c_double), ('format_major', c_int), ('format_minor', c_int),
        ('entropy', c_int), ('quant_bits', c_int), ('bits', Bits), ('bpppb', c_double),
        ('training', c_char_p), ('tile_width', c_uint32), ('tile_height', c_uint32),
        ('tiles_x', c_uint32), ('tiles_y', c_uint32),
    ]


class Reader(ctypes.Structure):
    _fields_ = [('size', c_uint64), ('read_at', READ_AT_FN), ('user', c_void_p)]


_VP, _SZ = POINTER(c_void_p), POINTER(c_size_t)
# name: (restype, argtypes) of the libhiner functions used here
_HINER = {
    'hiner_version_string': (c_char_p, []),
    'hiner_status_str': (c_char_p, [c_int]),
    'hiner_free': (None, [c_void_p]),
    'hiner_params_init': (c_int, [POINTER(Params), c_int]),
    'hiner_params_validate': (c_int, [POINTER(Params)]),
    'hiner_encode_mem': (c_int, [POINTER(Cube), POINTER(Meta), POINTER(Params), _VP, _SZ,
                                 c_void_p]),
    'hiner_tiler_create': (c_int, [POINTER(Cube), POINTER(Params), _VP]),
    'hiner_tiler_free': (None, [c_void_p]),
    'hiner_tiler_count': (c_uint32, [c_void_p]),
    'hiner_tiler_window': (c_int, [c_void_p, c_uint32, POINTER(c_uint32), POINTER(c_uint32)]),
    'hiner_tiler_stats': (c_int, [c_void_p, c_uint32, c_void_p, _VP, _SZ]),
    'hiner_tiler_add_stats': (c_int, [c_void_p, c_void_p, c_size_t]),
    'hiner_tiler_plan': (c_int, [c_void_p, POINTER(Meta)]),
    'hiner_tiler_save': (c_int, [c_void_p, _VP, _SZ]),
    'hiner_tiler_load': (c_int, [c_void_p, c_size_t, _VP]),
    'hiner_tiler_set_callbacks': (c_int, [c_void_p, PROGRESS_FN, c_void_p, LOG_FN, c_void_p]),
    'hiner_tiler_prior': (ctypes.c_int64, [c_void_p]),
    'hiner_tiler_encode': (c_int, [c_void_p, c_uint32, c_void_p, c_void_p, c_size_t, _VP, _SZ,
                                   _VP, _SZ]),
    'hiner_tiler_head': (c_int, [c_void_p, POINTER(c_uint64), _VP, _SZ]),
    'hiner_tiler_tail': (c_int, [_VP, _SZ]),
    'hiner_open_file': (c_int, [c_char_p, _VP]),
    'hiner_open_mem': (c_int, [c_void_p, c_size_t, _VP]),
    'hiner_open_lazy': (c_int, [POINTER(Reader), _VP]),
    'hiner_model_free': (None, [c_void_p]),
    'hiner_model_info': (c_int, [c_void_p, POINTER(Info)]),
    'hiner_model_wavelengths': (POINTER(c_double), [c_void_p]),
    'hiner_model_set_threads': (c_int, [c_void_p, c_int]),
    'hiner_model_decode_band_as': (c_int, [c_void_p, c_uint32, c_int, c_void_p]),
    'hiner_model_decode_wavelength_as': (c_int, [c_void_p, c_double, c_int, c_void_p]),
    'hiner_model_decode_tile_as': (c_int, [c_void_p, c_uint32, c_uint32, c_int, c_double,
                                           c_int, c_void_p]),
    'hiner_model_decode_window_as': (c_int, [c_void_p, c_uint32, c_uint32, c_uint32, c_uint32,
                                             c_int, c_double, c_int, c_void_p]),
}
_PLAN = {
    'GDALRegister_HINER': (None, []),
    'HINERParseOptions': (c_int, [POINTER(c_char_p), POINTER(Params)]),
    'HINERPlanOpen': (c_void_p, [c_char_p, POINTER(c_char_p)]),
    'HINERPlanTiler': (c_void_p, [c_void_p]),
    'HINERPlanParams': (POINTER(Params), [c_void_p]),
    'HINERPlanFinish': (c_int, [c_void_p]),
    'HINERPlanWritePam': (None, [c_void_p, c_char_p]),
    'HINERPlanClose': (None, [c_void_p]),
}


def _declare(dll, table):
    for name, (res, args) in table.items():
        f = getattr(dll, name)
        f.restype = res
        f.argtypes = args
    return dll


def _configured(name):
    return getattr(_config, name, None) if _config else None


def library_path():
    """Where libhiner is taken from."""
    p = os.environ.get('HINER_LIBRARY') or _configured('LIBHINER')
    if p and os.path.exists(p):
        return p
    return ctypes.util.find_library('hiner')


def plugin_path():
    """Where the GDAL plugin gdal_HINER.so is taken from."""
    p = os.environ.get('HINER_PLUGIN') or _configured('PLUGIN')
    if p and os.path.exists(p):
        return p
    dirs = [d for d in os.environ.get('GDAL_DRIVER_PATH', '').split(':') if d]
    dirs += glob.glob('/usr/lib/*/gdalplugins') + ['/usr/lib/gdalplugins',
                                                   '/usr/local/lib/gdalplugins']
    for d in dirs:
        c = os.path.join(d, 'gdal_HINER.so')
        if os.path.exists(c):
            return c
    return None


_lib = None
_plugin = None


def lib():
    """libhiner, loaded once per process."""
    global _lib
    if _lib is None:
        p = library_path()
        if not p:
            raise OSError('libhiner not found: build it (cmake --build) or set HINER_LIBRARY')
        _lib = _declare(ctypes.CDLL(p), _HINER)
        _check_abi(_lib)
    return _lib


def plugin():
    """The GDAL plugin (it carries libhiner and exports its API), loaded once per process."""
    global _plugin
    if _plugin is None:
        p = plugin_path()
        if not p:
            raise OSError('gdal_HINER.so not found: build it or set HINER_PLUGIN')
        _plugin = _declare(_declare(ctypes.CDLL(p), _HINER), _PLAN)
        _check_abi(_plugin)
    return _plugin


def _check_abi(dll):
    """The library's hiner_params is the one mirrored here: its ABI version, and its size
    (hiner_params_init zeroes the whole struct: the bytes it wrote in a larger buffer)."""
    n = ctypes.sizeof(Params)
    buf = ctypes.create_string_buffer(b'\xaa' * (2 * n), 2 * n)
    st = dll.hiner_params_init(ctypes.cast(buf, POINTER(Params)), ABI_VERSION)
    size = len(buf.raw.rstrip(b'\xaa'))
    if st != 0 or size != n:
        raise HinerError(st or -12, 'this package mirrors hiner.h with HINER_ABI_VERSION %d '
                                    'and a hiner_params of %d bytes; the library at hand '
                                    'differs (%d bytes): install them from one build'
                         % (ABI_VERSION, n, size))


def status_str(st):
    return lib_any().hiner_status_str(st).decode()


def lib_any():
    return _lib or _plugin or lib()


def check(st, detail='', what=''):
    """Raises HinerError for a failed status: 'what: HINER_E_X (string): detail'."""
    if st == 0:
        return
    msg = '%s (%s)' % (STATUS_NAMES.get(st, 'status %d' % st), status_str(st))
    if detail:
        msg += ': ' + detail
    if what:
        msg = what + ': ' + msg
    raise HinerError(st, msg)


def take(dll, ptr, size):
    """The bytes of a buffer libhiner allocated, freed."""
    try:
        return ctypes.string_at(ptr, size) if size else b''
    finally:
        if ptr:
            dll.hiner_free(ptr)


class LogCollector:
    """A hiner_log_fn that keeps the errors (level 0) and, when given, passes the rest on."""

    def __init__(self, sink=None):
        self.errors = []
        self.sink = sink
        self.fn = LOG_FN(self._log)

    def _log(self, level, msg, _user):
        text = msg.decode('utf-8', 'replace') if msg else ''
        if level == 0:
            self.errors.append(text)
        elif self.sink:
            self.sink(level, text)

    def take(self):
        s = '; '.join(self.errors)
        self.errors = []
        return s


def cstrings(values):
    """A NULL-terminated char ** of values (and the array, which must be kept alive)."""
    values = [v.encode() if isinstance(v, str) else v for v in values]
    arr = (c_char_p * (len(values) + 1))(*values, None)
    return arr
