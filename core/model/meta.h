/*
 * meta.h - the metadata a file carries besides the network (meta.c): the store that owns
 * it, and the records of the WAVE, GEO and META chunks.
 */
#ifndef HINER_META_H
#define HINER_META_H

#include "../internal.h"

struct hn_buf;
struct hn_rd;
typedef struct hn_meta_store hn_meta_store;
HN_HIDDEN hn_meta_store *hn_meta_store_new(uint32_t bands);
HN_HIDDEN void hn_meta_store_free(hn_meta_store *s);
HN_HIDDEN const hiner_meta *hn_meta_store_view(hn_meta_store *s);
HN_HIDDEN void hn_geo_serialize(struct hn_buf *b, const hiner_meta *m);
HN_HIDDEN int hn_geo_empty(const hiner_meta *m);
HN_HIDDEN hiner_status hn_geo_parse(struct hn_rd *r, hn_meta_store *s);
HN_HIDDEN void hn_metarec_serialize(struct hn_buf *b, const hiner_meta *m, uint32_t bands);
HN_HIDDEN hiner_status hn_metarec_parse(struct hn_rd *r, hn_meta_store *s);
HN_HIDDEN void hn_wave_serialize(struct hn_buf *b, const char *units, const double *wl,
                                 const double *fwhm, uint32_t bands);
/* Fills wl (bands) and the store's units and FWHM. */
HN_HIDDEN hiner_status hn_wave_parse(struct hn_rd *r, hn_meta_store *s, double *wl);

#endif /* HINER_META_H */
