"""HINER from Python: libhiner and the GDAL plugin over ctypes (the C library computes
everything; this package moves bytes).

    hiner.encode(cube, bpppb=0.2)            a .hiner file's bytes from a numpy cube
    hiner.Model(path)                        decode bands, wavelengths, tiles, windows
    hiner.Tiler                              tiled encodes in parts (hiner.h)
    hiner.SourcePlan(src, options)           a GDAL source planned as CreateCopy plans it
    hiner.tiled.encode_local(src, dst, ...)  a tiled encode in this process
    hiner.dask.encode(src, dst, ...)         the same on a Dask cluster (docs/distributed.md)
"""
from ._lib import HinerError, library_path, plugin_path
from .model import Meta, Model, encode
from .plan import SourcePlan, params_from_options, register_driver
from .tiler import Tiler, assemble, params


def version():
    """libhiner's version string."""
    from . import _lib
    return _lib.lib().hiner_version_string().decode()


__all__ = ['HinerError', 'Meta', 'Model', 'SourcePlan', 'Tiler', 'assemble', 'encode',
           'library_path', 'params', 'params_from_options', 'plugin_path', 'register_driver',
           'version']
