"""hiner.dask and hiner-dask-encode on a LocalCluster of 2 worker processes of one thread:
gdal_translate's bytes (and .aux.xml) with 2 workers and with 1; with a worker killed in
the middle of a tile; a tile that fails on a read error stops the job and leaves nothing;
a client killed in the middle leaves its finished tiles, which a rerun reuses (one of them
damaged, which it trains again). Skipped without Dask (python3-distributed)."""
import os
import signal
import subprocess
import threading
import time

import pytest

from osgeo import gdal

distributed = pytest.importorskip('distributed')

import hiner  # noqa: E402
import hiner.dask  # noqa: E402
from conftest import OPTIONS, leftovers, make_scene, read  # noqa: E402

TOOL = os.environ.get('HINER_DASK_ENCODE')


@pytest.fixture(scope='module')
def client():
    cluster = distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True,
                                       dashboard_address=':0')
    c = distributed.Client(cluster)
    yield c
    c.close()
    cluster.close()


def test_identical_to_gdal_translate(scene, reference, client, tmp_path):
    dst = str(tmp_path / 'dask.hiner')
    rep = hiner.dask.encode(scene, dst, OPTIONS, client=client)
    assert (rep['tiles'], rep['workers'], rep['reused']) == (9, 2, 0)
    assert read(dst) == reference[0]
    assert read(dst + '.aux.xml') == reference[1].encode()
    assert sorted(os.listdir(tmp_path)) == ['dask.hiner', 'dask.hiner.aux.xml']


@pytest.mark.skipif(not TOOL, reason='HINER_DASK_ENCODE not set')
def test_command_with_one_worker(scene, reference, tmp_path):
    dst = str(tmp_path / 'one.hiner')
    r = subprocess.run([TOOL, scene, dst, '--workers', '1'] +
                       sum((['-co', o] for o in OPTIONS), []), capture_output=True, text=True)
    assert r.returncode == 0, r.stderr
    assert '100 - done.' in r.stdout and '9 tiles' in r.stdout
    assert read(dst) == reference[0]


def _executing_tiles(dask_worker):
    return [ts.key for ts in dask_worker.state.executing if ts.key.startswith('hiner-tile-')]


def test_worker_killed_during_a_tile(scene, reference, client, tmp_path):
    dst = str(tmp_path / 'killed.hiner')
    out = {}

    def run():
        try:
            out['rep'] = hiner.dask.encode(scene, dst, OPTIONS, client=client)
        except BaseException as e:  # noqa: B902 (reported below)
            out['error'] = e
    th = threading.Thread(target=run)
    th.start()
    pids = client.run(os.getpid)
    killed = None
    deadline = time.monotonic() + 60
    while th.is_alive() and killed is None and time.monotonic() < deadline:
        busy = client.run(_executing_tiles)
        for addr, keys in busy.items():
            if keys:  # training: 0.1 s later, still on the same tile
                time.sleep(0.1)
                if set(keys) & set(client.run(_executing_tiles, workers=[addr]).get(addr, [])):
                    os.kill(pids[addr], signal.SIGKILL)
                    killed = (addr, keys)
                break
        time.sleep(0.02)
    th.join(120)
    assert killed, 'no tile was caught training'
    assert 'error' not in out, out.get('error')
    assert read(dst) == reference[0]
    client.wait_for_workers(2, timeout=60)  # the nanny restarted it


def _corrupt_block(path):
    """Zeros the compressed bytes of the block at (16, 32) of band 3."""
    ds = gdal.Open(path)
    b = ds.GetRasterBand(3)
    off = int(b.GetMetadataItem('BLOCK_OFFSET_1_2', 'TIFF'))
    size = int(b.GetMetadataItem('BLOCK_SIZE_1_2', 'TIFF'))
    ds = None
    with open(path, 'r+b') as f:
        f.seek(off)
        f.write(b'\xff' * size)


def test_failing_tile_stops_the_job(client, tmp_path):
    src = str(tmp_path / 'bad.tif')
    make_scene(str(tmp_path / 'good.tif'))
    gdal.Translate(src, str(tmp_path / 'good.tif'),
                   creationOptions=['TILED=YES', 'BLOCKXSIZE=16', 'BLOCKYSIZE=16',
                                    'COMPRESS=DEFLATE', 'INTERLEAVE=BAND'])
    _corrupt_block(src)
    dst = str(tmp_path / 'bad.hiner')
    with pytest.raises(hiner.HinerError) as e:
        hiner.dask.encode(src, dst, OPTIONS, client=client)
    assert e.value.name == 'HINER_E_IO'
    assert 'tile 3: reading the window 0,32 32x32' in str(e.value), str(e.value)
    assert leftovers(dst) == []


@pytest.mark.skipif(not TOOL, reason='HINER_DASK_ENCODE not set')
def test_budget_error_from_the_command(scene, tmp_path):
    dst = str(tmp_path / 'small.hiner')
    r = subprocess.run([TOOL, scene, dst, '--workers', '1', '-q', '-co', 'BPPPB=0.2', '-co',
                        'BLOCKXSIZE=32'], capture_output=True, text=True)
    assert r.returncode == 1
    assert 'size target too small' in r.stderr and 'smallest target' in r.stderr, r.stderr
    assert 'Traceback' not in r.stderr
    assert leftovers(dst) == []


@pytest.mark.skipif(not TOOL, reason='HINER_DASK_ENCODE not set')
def test_rerun_reuses_finished_tiles(scene, reference, client, tmp_path):
    dst = str(tmp_path / 'rerun.hiner')
    scratch = str(tmp_path / 'scratch')
    p = subprocess.Popen([TOOL, scene, dst, '--workers', '1', '-q', '--scratch', scratch] +
                         sum((['-co', o] for o in OPTIONS), []), start_new_session=True,
                         stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)

    def tiles():
        return [os.path.join(r, f) for r, _, fs in os.walk(scratch) for f in fs
                if f.startswith('tile-')]
    try:
        deadline = time.monotonic() + 90
        while len(tiles()) < 4 and p.poll() is None and time.monotonic() < deadline:
            time.sleep(0.02)
    finally:
        os.killpg(p.pid, signal.SIGKILL)  # the client and its cluster: the group it leads
        p.wait()
    done = tiles()
    assert 4 <= len(done) < 9, done
    assert not os.path.exists(dst)
    with open(done[-1], 'r+b') as f:  # a damaged tile no longer checks: trained again
        f.seek(20)
        f.write(b'\0\1\2\3')
    rep = hiner.dask.encode(scene, dst, OPTIONS, client=client, scratch=scratch)
    assert rep['reused'] == len(done) - 1
    assert read(dst) == reference[0]
    assert not os.path.exists(scratch)
