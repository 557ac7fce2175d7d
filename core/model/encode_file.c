/*
 * encode_file.c - hiner_encode_file: the encoded file written under a temporary name beside
 * the target and renamed at the end, so that a failed encode never leaves a partial file.
 */
#define _POSIX_C_SOURCE 200809L
#include <errno.h>
#include <stdio.h>
#include <unistd.h>

#include "encode.h"

hiner_status hiner_encode_file(const hiner_cube *cube, const hiner_meta *meta,
                               const hiner_params *p, const char *path, hiner_encode_report *report)
{
    HN_CHECK(!path || !path[0], HINER_E_INVALID_ARG);
    hn_buf file;
    hn_buf_init(&file);
    hiner_status st = hn_encode_to_buf(cube, meta, p, &file, report);
    if (st != HINER_OK) {
        hn_buf_free(&file);
        return st;
    }
    size_t n = strlen(path);
    char *tmp = malloc(n + 32);
    if (!tmp) {
        hn_buf_free(&file);
        return HINER_E_NOMEM;
    }
    snprintf(tmp, n + 32, "%s.tmp%ld", path, (long)getpid());
    FILE *fp = fopen(tmp, "wb");
    int ok = fp != NULL;
    if (ok) ok = fwrite(file.p, 1, file.n, fp) == file.n;
    if (fp) ok = (fclose(fp) == 0) && ok;
    if (ok) ok = rename(tmp, path) == 0;
    if (!ok) {
        const hn_log lg = {p->log, p->log_user};
        hn_logf(&lg, 0, "cannot write %s: %s", path, strerror(errno));
        remove(tmp);
        st = HINER_E_IO;
    }
    free(tmp);
    hn_buf_free(&file);
    return st;
}
