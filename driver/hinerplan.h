/******************************************************************************
 *
 * Project:  HINER driver
 * Purpose:  A tiled encode planned from a GDAL source exactly as CreateCopy plans it,
 *           for encoders that train the tiles elsewhere (python/hiner/dask.py over
 *           ctypes): the creation options parsed, the source's metadata and
 *           wavelengths collected, the hiner_tiler made and planned with them.
 *
 ******************************************************************************/

#ifndef HINERPLAN_H
#define HINERPLAN_H

#include "hiner.h"

#define HINER_PLAN_API __attribute__((visibility("default")))

extern "C" {

/* A source opened and a tiler made for it; opaque. */
typedef struct HINERPlan HINERPlan;

/* Parses papszOptions (the driver's creation options, "KEY=VALUE", NULL-terminated; NULL
 * for none) as CreateCopy does into *psParams; 0, or HINER_E_INVALID_ARG with a CPLError
 * naming the option. */
HINER_PLAN_API int HINERParseOptions(char **papszOptions, hiner_params *psParams);

/* Opens pszSource with GDAL, parses the creation options, checks the source and collects
 * its metadata and wavelengths as CreateCopy does (bStrict false: bands that differ in
 * type or NoData warn), and makes the tiler for its shape, band 1's type and NoData. NULL
 * with a CPLError on failure. Close with HINERPlanClose. */
HINER_PLAN_API HINERPlan *HINERPlanOpen(const char *pszSource, char **papszOptions);

/* The plan's tiler (owned by the plan, its log into the plan's): add every tile's
 * statistics to it with this plugin's hiner_tiler_add_stats (the plugin carries libhiner
 * and exports its API), then HINERPlanFinish; then hiner_tiler_save, _prior, _head. */
HINER_PLAN_API hiner_tiler *HINERPlanTiler(HINERPlan *psPlan);

/* The params parsed from the creation options (callbacks are the plan's). */
HINER_PLAN_API const hiner_params *HINERPlanParams(HINERPlan *psPlan);

/* hiner_tiler_plan with the source's metadata. 0, or the status with a CPLError as the
 * driver reports it (a target too small names the smallest that works). */
HINER_PLAN_API int HINERPlanFinish(HINERPlan *psPlan);

/* Writes pszFilename's .aux.xml from the source as CreateCopy does (band units, scale and
 * offset, category names, colour table, attribute table: what the file does not store). */
HINER_PLAN_API void HINERPlanWritePam(HINERPlan *psPlan, const char *pszFilename);

HINER_PLAN_API void HINERPlanClose(HINERPlan *psPlan);

}  // extern "C"

#endif
