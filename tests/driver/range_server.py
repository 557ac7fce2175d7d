#!/usr/bin/python3
"""An HTTP server on 127.0.0.1 that honours Range requests (Python's http.server does not),
for /vsicurl/ tests and benchmarks. Serves one directory; prints its port on stdout, then
one line per request ('GET path start-end bytes') so a test can count what was fetched.

    range_server.py DIR
"""
import http.server
import os
import re
import sys


class Handler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, fmt, *args):  # the request lines below are the log
        pass

    def send_head(self):
        path = self.translate_path(self.path)
        if not os.path.isfile(path):
            self.send_error(404)
            return None
        size = os.path.getsize(path)
        start, end = 0, size - 1
        m = re.match(r'bytes=(\d+)-(\d*)$', self.headers.get('Range', ''))
        if m:
            start = int(m.group(1))
            end = min(int(m.group(2)) if m.group(2) else size - 1, size - 1)
            if start > end:
                self.send_error(416)
                return None
            self.send_response(206)
            self.send_header('Content-Range', f'bytes {start}-{end}/{size}')
        else:
            self.send_response(200)
        self.send_header('Content-Type', 'application/octet-stream')
        self.send_header('Accept-Ranges', 'bytes')
        self.send_header('Content-Length', str(end - start + 1))
        self.end_headers()
        f = open(path, 'rb')
        f.seek(start)
        self.range = (start, end)
        return f

    def copyfile(self, source, outputfile):
        start, end = self.range
        left = end - start + 1
        while left > 0:
            buf = source.read(min(left, 1 << 16))
            if not buf:
                break
            outputfile.write(buf)
            left -= len(buf)
        sent = end - start + 1 - left
        print(f'{self.command} {self.path} {start}-{end} {sent}', flush=True)

    def do_HEAD(self):
        f = self.send_head()
        if f:
            f.close()
            print(f'HEAD {self.path} 0-0 0', flush=True)


def main():
    os.chdir(sys.argv[1])
    srv = http.server.ThreadingHTTPServer(('127.0.0.1', 0), Handler)
    print(srv.server_address[1], flush=True)
    srv.serve_forever()


if __name__ == '__main__':
    main()
