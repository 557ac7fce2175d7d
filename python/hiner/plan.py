"""Plans from GDAL sources through the plugin's exported entry points (driver/hinerplan.h):
the creation options parsed and the source's metadata and wavelengths collected exactly as
the driver's CreateCopy does, so tiles encoded elsewhere make the bytes gdal_translate
writes."""
import ctypes
import os

from . import _lib as L
from .tiler import Tiler


class GDALErrors:
    """Collects GDAL's errors during plugin calls (warnings go to `warn`)."""

    def __init__(self, warn=None):
        self.errors = []
        self.warn = warn

    def __enter__(self):
        from osgeo import gdal

        def handler(cls, num, msg):
            if cls >= gdal.CE_Failure:
                self.errors.append(msg)
            elif cls == gdal.CE_Warning and self.warn:
                self.warn(msg)
        self._handler = handler
        gdal.PushErrorHandler(handler)
        return self

    def __exit__(self, *exc):
        from osgeo import gdal
        gdal.PopErrorHandler()

    def message(self, default):
        return '; '.join(self.errors) or default


def register_driver():
    """Registers the HINER driver with the GDAL of this process (from the plugin this
    package uses) unless GDAL already has it."""
    from osgeo import gdal
    if gdal.GetDriverByName('HINER') is None:
        L.plugin().GDALRegister_HINER()
    return gdal.GetDriverByName('HINER')


def params_from_options(options=()):
    """hiner_params from the driver's creation options ('KEY=VALUE', as -co takes them),
    parsed by the driver's own parser."""
    dll = L.plugin()
    p = L.Params()
    arr = L.cstrings(list(options))
    with GDALErrors() as err:
        st = dll.HINERParseOptions(arr, L.byref(p))
    if st != 0:
        raise L.HinerError(st, err.message('bad creation options'))
    return p


class SourcePlan(L.Handle):
    """A GDAL source and the tiler for it, as CreateCopy makes them: SourcePlan(path,
    ['BPPPB=0.2', ...]). Add every tile's statistics to .tiler, then finish(); then
    .tiler.save() for the workers, .tiler.head(sizes) for the file, write_pam(dst)."""

    def __init__(self, src, options=(), warn=None):
        from osgeo import gdal
        gdal.UseExceptions()
        self._dll = L.plugin()
        self._warn = warn
        arr = L.cstrings(list(options))
        with GDALErrors(warn) as err:
            h = self._dll.HINERPlanOpen(os.fsencode(src), arr)
        if not h:
            raise L.HinerError(-3, err.message('cannot plan %s' % src))
        self._h = ctypes.c_void_p(h)
        self.src = src
        self.options = list(options)
        ds = gdal.Open(src)
        self.width, self.height, self.bands = ds.RasterXSize, ds.RasterYSize, ds.RasterCount
        b1 = ds.GetRasterBand(1)
        self.gdal_type = b1.DataType  # windows are read in band 1's type, as the driver does
        import numpy as np
        from osgeo import gdal_array
        self.dtype = np.dtype(gdal_array.GDALTypeCodeToNumericTypeCode(self.gdal_type)).name
        ds = None
        p = self._dll.HINERPlanParams(self._h).contents
        self.params = L.Params.from_buffer_copy(bytes(p))
        self.tiler = Tiler(self._dll.HINERPlanTiler(self._h), self._dll, self.bands,
                           self.dtype, owned=False)

    def finish(self):
        """hiner_tiler_plan with the source's metadata (the driver's error on failure)."""
        with GDALErrors(self._warn) as err:
            st = self._dll.HINERPlanFinish(self._h)
        if st != 0:
            raise L.HinerError(st, err.message(L.STATUS_NAMES.get(st, str(st))))

    def write_pam(self, dst):
        """dst's .aux.xml from the source, as CreateCopy writes it."""
        register_driver()
        with GDALErrors(self._warn):
            self._dll.HINERPlanWritePam(self._h, os.fsencode(dst))

    def close(self):
        if getattr(self, '_h', None):
            self._dll.HINERPlanClose(self._h)
        self._h = None
