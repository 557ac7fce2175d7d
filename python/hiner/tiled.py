"""Tiled encodes of GDAL sources in parts, wherever the tiles train.

The functions a worker runs: a tile's window read from the source with GDAL (band 1's
type, band-sequential, as the driver reads it), its statistics, its encode on one thread,
and a scene of one tile encoded whole by the driver. The client's Job: the plan made by
the plugin as CreateCopy makes it, a scratch directory of finished tiles (named by the
SHA-256 of their bytes, under the SHA-256 of the planned tiler, so a rerun reuses what
still checks), the file written under a temporary name and renamed. encode_local runs the
same job in this process, tile after tile (the in-process baseline of the Dask encoder).
"""
import hashlib
import os
import shutil
import tempfile
import time

from . import _lib as L
from .plan import SourcePlan, register_driver
from .tiler import Tiler, params_bytes, params_from_bytes

HinerError = L.HinerError


# ---- what a worker runs ----

def read_window(src, rect, gdal_type, t):
    """The window (x0, y0, w, h) of every band for tile t: bytes, (bands, h, w) samples."""
    from osgeo import gdal
    gdal.UseExceptions()
    x, y, w, h = rect
    try:
        gdal.ErrorReset()
        data = gdal.Open(src).ReadRaster(x, y, w, h, buf_type=gdal_type)
        why = gdal.GetLastErrorMsg() if data is None else None  # errors of GDAL's threads
    except RuntimeError as e:
        data, why = None, e
    if data is None:
        raise HinerError(L.E_IO, 'tile %d: reading the window %d,%d %dx%d of %s failed: %s'
                         % (t, x, y, w, h, src, why or 'no reason given'))
    return data


_tilers = {}


def _cached_tiler(key, make):
    """This process's tiler for key (a stats tiler or a loaded plan), made once."""
    t = _tilers.get(key)
    if t is None:
        if len(_tilers) >= 4:
            _tilers.clear()
        t = _tilers[key] = make()
    return t


def stats_task(spec, t):
    """Tile t's statistics (bytes), from its pixels read on this machine."""
    def make():
        return Tiler.create(spec['shape'], spec['dtype'], params_from_bytes(spec['params']),
                            nodata=spec['nodata'])
    tiler = _cached_tiler(('stats', spec['params'], spec['shape'], spec['dtype'],
                           spec['nodata']), make)
    rect, _ = tiler.window(t)
    return tiler.stats(t, read_window(spec['src'], rect, spec['gdal_type'], t))


def tile_task(spec, blob, t, prior=None, trained=False):
    """Tile t trained on one thread from its training window read on this machine:
    (t, run bytes, the prior's trained weights or None, seconds, CPU seconds)."""
    t0, c0 = time.perf_counter(), time.thread_time()
    tiler = _cached_tiler(('plan', hashlib.sha256(blob).digest()),
                          lambda: Tiler.load(blob, spec['shape'][0], spec['dtype']))
    _, train = tiler.window(t)
    pixels = read_window(spec['src'], train, spec['gdal_type'], t)
    run, weights = tiler.encode(t, pixels, prior=prior, trained=trained)
    return t, run, weights, time.perf_counter() - t0, time.thread_time() - c0


def single_task(src, options):
    """A scene of one tile: the whole file, written by the driver (format 1.1)."""
    from osgeo import gdal
    gdal.UseExceptions()
    register_driver()
    d = tempfile.mkdtemp(prefix='hiner-single-')
    try:
        dst = os.path.join(d, 'scene.hiner')
        gdal.Translate(dst, src, format='HINER', creationOptions=list(options))
        with open(dst, 'rb') as f:
            return f.read()
    except RuntimeError as e:
        raise HinerError(L.E_INVALID_ARG, str(e)) from None
    finally:
        shutil.rmtree(d, ignore_errors=True)


# ---- the client's job ----

class Job:
    """One encode of src into dst: the plan, the tiles still to train, the file."""

    def __init__(self, src, dst, options=(), scratch=None, warn=None):
        from osgeo import gdal
        gdal.UseExceptions()
        self.src = os.path.abspath(src) if os.path.exists(src) else src
        self.dst = dst
        self.options = list(options)
        self.plan = SourcePlan(self.src, self.options, warn)
        tiler = self.plan.tiler
        self.n = tiler.count
        self.windows = [tiler.window(t) for t in range(self.n)]
        ds = gdal.Open(self.src)
        self.nodata = ds.GetRasterBand(1).GetNoDataValue()  # band 1's, as the driver takes it
        ds = None
        p = self.plan
        self.spec = dict(src=self.src, gdal_type=p.gdal_type, params=params_bytes(p.params),
                         shape=(p.bands, p.height, p.width), dtype=p.dtype, nodata=self.nodata)
        self.scratch_root = scratch or dst + '.hiner-tiles'
        self.scratch = None
        self.blob = self.key = None
        self.prior = None
        self.prior_weights = None
        self.runs = {}      # tile: scratch file of its run
        self.reused = 0
        self.temp = dst + '.hiner-part'
        self.made_root = False

    # the plan
    def add_stats(self, blob):
        self.plan.tiler.add_stats(blob)

    def finish_plan(self):
        self.plan.finish()
        self.blob = self.plan.tiler.save()
        self.key = hashlib.sha256(self.blob).hexdigest()
        self.prior = self.plan.tiler.prior()
        self._open_scratch()

    def needs_prior(self, t):
        """Tiles that may start from the prior's weights: the full-size ones but the prior
        (the tiler shares the prior's architecture among full tiles only)."""
        full = self.windows[0][0][2:]
        return self.prior is not None and t != self.prior and self.windows[t][0][2:] == full

    def todo(self):
        return [t for t in range(self.n) if t not in self.runs]

    def weight(self, t):
        """Share of the work: the training window's pixels."""
        w = self.windows[t][1]
        return w[2] * w[3]

    # the scratch directory: finished tiles, checked by hash
    def _open_scratch(self):
        if not os.path.isdir(self.scratch_root):
            os.makedirs(self.scratch_root)
            self.made_root = True
        self.scratch = os.path.join(self.scratch_root, self.key[:16])
        os.makedirs(self.scratch, exist_ok=True)
        for name in sorted(os.listdir(self.scratch)):
            path = os.path.join(self.scratch, name)
            parts = name.split('.')
            ok = len(parts) == 3 and parts[0].split('-')[0] in ('tile', 'prior')
            if ok:
                with open(path, 'rb') as f:
                    data = f.read()
                ok = hashlib.sha256(data).hexdigest() == parts[1]
            if not ok:  # a partial write or a file that no longer checks
                os.remove(path)
                continue
            kind, t = parts[0].split('-')
            t = int(t)
            if kind == 'prior' and t == self.prior:
                self.prior_weights = data
            elif kind == 'tile' and t < self.n:
                self.runs[t] = path
        if self.prior is not None and self.prior_weights is None:
            # a full tile's run is kept only with the weights that started it
            self.runs.pop(self.prior, None)
        self.reused = len(self.runs)

    def _put(self, kind, t, data, ext):
        name = '%s-%05d.%s.%s' % (kind, t, hashlib.sha256(data).hexdigest(), ext)
        tmp = os.path.join(self.scratch, '.%s-%05d.part' % (kind, t))
        with open(tmp, 'wb') as f:
            f.write(data)
        os.replace(tmp, os.path.join(self.scratch, name))
        return os.path.join(self.scratch, name)

    def store(self, t, run, weights=None):
        if weights is not None:
            self.prior_weights = weights
            self._put('prior', t, weights, 'f32')
        self.runs[t] = self._put('tile', t, run, 'run')

    # the file
    def _commit(self, write):
        try:
            with open(self.temp, 'wb') as f:
                write(f)
            os.replace(self.temp, self.dst)
        except BaseException:
            self._remove_temp()
            raise
        self.plan.write_pam(self.dst)

    def write(self):
        """The head, the runs in tile order, the tail: under the temporary name, renamed."""
        sizes = [os.path.getsize(self.runs[t]) for t in range(self.n)]

        def write(f):
            f.write(self.plan.tiler.head(sizes))
            for t in range(self.n):
                with open(self.runs[t], 'rb') as r:
                    shutil.copyfileobj(r, f)
            f.write(self.plan.tiler.tail())
        self._commit(write)
        self.drop_scratch()
        return os.path.getsize(self.dst)

    def write_single(self, data):
        self._commit(lambda f: f.write(data))
        return len(data)

    def _remove_temp(self):
        if os.path.exists(self.temp):
            os.remove(self.temp)

    def drop_scratch(self):
        if self.scratch and os.path.isdir(self.scratch):
            shutil.rmtree(self.scratch, ignore_errors=True)
        if os.path.isdir(self.scratch_root) and not os.listdir(self.scratch_root):
            os.rmdir(self.scratch_root)

    def fail(self, drop_scratch):
        """After a failure: no temporary file; the finished tiles dropped unless a rerun
        may use them (an interrupted client)."""
        self._remove_temp()
        if drop_scratch:
            self.drop_scratch()

    def close(self):
        self.plan.close()


class Progress:
    """GDAL's 0...10...20...100 bar over the statistics (2 %) and the tiles (by pixels)."""

    def __init__(self, job, show):
        self.show = show
        self.total = sum(job.weight(t) for t in range(job.n)) or 1
        self.done = 0
        self.frac = -1

    def set(self, frac):
        if self.show and frac > self.frac:
            from osgeo import gdal
            gdal.TermProgress_nocb(min(frac, 1.0))
            self.frac = frac

    def reuse(self, job):
        """The tiles taken from the scratch directory count as done."""
        self.done = sum(job.weight(t) for t in job.runs)
        self.set(0.02 + 0.98 * self.done / self.total)

    def stats(self, k, n):
        self.set(0.02 * k / n)

    def tile(self, job, t):
        self.done += job.weight(t)
        self.set(0.02 + 0.98 * self.done / self.total)


def encode_local(src, dst, options=(), scratch=None, progress=False, warn=None):
    """The tiled encode in this process, tile after tile on one thread, with the Dask
    encoder's parts and order (the prior, the tiles it does not start, the others); the
    same bytes as gdal_translate. Returns a report (dict)."""
    t0 = time.perf_counter()
    job = Job(src, dst, options, scratch, warn)
    rep = dict(tiles=job.n, workers=0)
    try:
        if job.n == 1:
            rep['bytes'] = job.write_single(single_task(job.src, job.options))
            rep['seconds'] = time.perf_counter() - t0
            return rep
        for t in range(job.n):
            job.add_stats(stats_task(job.spec, t))
        job.finish_plan()
        bar = Progress(job, progress)
        bar.reuse(job)
        rep['reused'] = job.reused
        busy = cpu = 0.0
        rep['tile_cpu'] = {}
        first = [job.prior] if job.prior is not None and job.prior in job.todo() else []
        order = first + [t for t in job.todo() if t not in first and not job.needs_prior(t)]
        order += [t for t in job.todo() if t not in order]
        for t in order:
            prior = job.prior_weights if job.needs_prior(t) else None
            _, run, w, sec, csec = tile_task(job.spec, job.blob, t, prior, trained=t == job.prior)
            busy += sec
            cpu += csec
            rep['tile_cpu'][t] = csec
            job.store(t, run, w)
            bar.tile(job, t)
        rep['bytes'] = job.write()
        bar.set(1.0)
        rep['tile_seconds'], rep['tile_cpu_seconds'] = busy, cpu
    except KeyboardInterrupt:
        job.fail(drop_scratch=False)
        raise
    except BaseException:
        job.fail(drop_scratch=True)
        raise
    finally:
        job.close()
    rep['seconds'] = time.perf_counter() - t0
    return rep
