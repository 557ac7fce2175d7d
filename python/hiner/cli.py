"""hiner-dask-encode SRC DST [--scheduler ADDR] [--workers N] [-co KEY=VALUE ...]

Encodes a GDAL raster into a tiled .hiner file on a Dask cluster: the bytes
`gdal_translate -of HINER` writes with the same creation options (docs/distributed.md).
"""
import argparse
import importlib.util
import os
import sys
import time


def _parser():
    ap = argparse.ArgumentParser(
        prog='hiner-dask-encode',
        description='Encode a GDAL raster into a .hiner file on a Dask cluster: the tiles '
                    'train on the workers; the file is the one gdal_translate -of HINER '
                    'writes with the same -co options.')
    ap.add_argument('src', help='the source raster (a path or GDAL name every worker can open)')
    ap.add_argument('dst', help='the .hiner file to write')
    ap.add_argument('--scheduler', metavar='ADDR',
                    help="a running scheduler (tcp://host:8786); default: a LocalCluster on "
                         "this machine")
    ap.add_argument('--workers', type=int, metavar='N',
                    help='the LocalCluster\'s worker processes of one thread each (default: '
                         'one per CPU); with --scheduler, wait until N workers are connected')
    ap.add_argument('-co', dest='options', action='append', default=[], metavar='KEY=VALUE',
                    help='a creation option of the HINER driver (repeat)')
    ap.add_argument('--scratch', metavar='DIR',
                    help='where finished tiles are kept until the file is written '
                         '(default: DST.hiner-tiles); a rerun reuses those that still check')
    ap.add_argument('-q', '--quiet', action='store_true', help='no progress bar, no summary')
    return ap


def main(argv=None):
    a = _parser().parse_args(argv)
    try:
        from distributed import Client, LocalCluster
    except ImportError:
        print('hiner-dask-encode: Dask is not installed (Debian: apt-get install python3-dask '
              'python3-distributed)', file=sys.stderr)
        return 2
    from . import HinerError
    from . import dask as hdask

    for o in a.options:
        if '=' not in o:
            print('hiner-dask-encode: -co %s: expected KEY=VALUE' % o, file=sys.stderr)
            return 2
    if os.path.isdir(a.dst):
        print('hiner-dask-encode: %s is a directory' % a.dst, file=sys.stderr)
        return 2

    def warn(msg):
        print('Warning: %s' % msg, file=sys.stderr)

    t0 = time.perf_counter()
    cluster = None
    try:
        if a.scheduler:
            client = Client(a.scheduler)
            if a.workers:
                client.wait_for_workers(a.workers)
        else:
            cluster = LocalCluster(n_workers=a.workers or os.cpu_count(), threads_per_worker=1,
                                   processes=True)
            client = Client(cluster)
    except (OSError, TimeoutError) as e:
        print('hiner-dask-encode: cannot reach the cluster: %s' % e, file=sys.stderr)
        return 1
    try:
        if not a.quiet:
            link = client.dashboard_link
            if importlib.util.find_spec('bokeh') is None:  # Debian 12 has no bokeh package
                link = '%s (without bokeh: %s)' % (link, link.replace('/status',
                                                                      '/info/main/workers.html'))
            print('Dask: %d workers, dashboard %s' % (len(client.scheduler_info()['workers']),
                                                     link), file=sys.stderr)
        rep = hdask.encode(a.src, a.dst, a.options, client=client, scratch=a.scratch,
                           progress=not a.quiet, warn=warn)
    except HinerError as e:
        print('hiner-dask-encode: %s' % e, file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print('hiner-dask-encode: interrupted; the finished tiles stay in %s for a rerun'
              % (a.scratch or a.dst + '.hiner-tiles'), file=sys.stderr)
        return 130
    except Exception as e:  # a worker killed too often, a lost scheduler: say so, no trace
        print('hiner-dask-encode: %s: %s' % (type(e).__name__, e), file=sys.stderr)
        return 1
    finally:
        client.close()
        if cluster is not None:
            cluster.close()
    if not a.quiet:
        print('%s: %d bytes, %d tiles (%d from the scratch directory) on %d workers, %.1f s'
              % (a.dst, rep['bytes'], rep['tiles'], rep.get('reused', 0), rep['workers'],
                 time.perf_counter() - t0))
    return 0


if __name__ == '__main__':
    sys.exit(main())
