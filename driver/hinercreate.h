/******************************************************************************
 *
 * Project:  HINER driver
 * Purpose:  What the create path shares with the tiled encodes in parts
 *           (hinerplan.cpp): creation options into params, the checks of a source,
 *           the cube, wavelengths and metadata read from it, and the .aux.xml.
 *
 ******************************************************************************/

#ifndef HINERCREATE_H
#define HINERCREATE_H

#include "gdal_priv.h"

#include "hiner.h"
#include "hinerdrivercommon.h"
#include "hinermetadata.h"
#include "hinerwavelengths.h"

/* Creation options into libhiner params; false (with a CPLE_IllegalArg naming the option)
 * on any bad value. */
bool HINERParseCreationOptions(CSLConstList papszOptions, hiner_params *psParams);

/* The file has one data type and one NoData for all bands: band 1's. A source whose bands
 * differ fails with bStrict, else warns. */
bool HINERCheckBandsAlike(GDALDataset *poSrcDS, int bStrict);

/* Reads windows of every band of a source through GDAL, in the file's data type. */
struct HINERSourceReader
{
    GDALDataset *poSrcDS;
    GDALDataType eDT;
};

/* What an encode takes from a source: the cube (band 1's type and NoData, windows read
 * through GDAL, the wavelengths) and the metadata the file stores. Holds pointers into
 * itself: built in place by HINERPrepareSource, never copied. */
struct HINERSource
{
    HINERWavelengths oWL;
    HINERMetaBuilder oMeta;
    HINERSourceReader sReader{};
    hiner_cube sCube{};

    HINERSource() = default;
    HINERSource(const HINERSource &) = delete;
    HINERSource &operator=(const HINERSource &) = delete;
};

/* Fills oSrc from poSrcDS; false, with a CPLError, for a source the format cannot hold
 * (no band, another type, a dimension over 65535). */
bool HINERPrepareSource(GDALDataset *poSrcDS, HINERSource &oSrc);

/* After an encode or a plan refused its target: the smallest that would work, appended
 * to the log's message (nothing when the target was above it). */
void HINERAddSmallestTarget(const hiner_cube &sCube, const hiner_meta &sMeta,
                            const hiner_params &sParams, HINERLog &oLog);

/* The file's .aux.xml: what the file does not store (band unit, scale and offset,
 * category names, colour table, attribute table), from poFrom, as CreateCopy writes it. */
void HINERCloneToPam(const char *pszFilename, GDALDataset *poFrom);

#endif
