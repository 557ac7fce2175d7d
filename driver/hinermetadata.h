/******************************************************************************
 *
 * Project:  HINER driver
 * Purpose:  A source dataset's georeferencing, band descriptions, colour
 *           interpretation and metadata items, gathered into the hiner_meta a file
 *           stores.
 *
 ******************************************************************************/

#ifndef HINERMETADATA_H
#define HINERMETADATA_H

#include <list>
#include <string>
#include <vector>

#include "gdal_priv.h"

#include "hiner.h"
#include "hinerwavelengths.h"

/* Owns the strings behind a hiner_meta built from a GDAL dataset. */
struct HINERMetaBuilder
{
    hiner_meta sMeta{};
    std::string osCRS, osGCPCRS, osUnits;
    std::vector<hiner_gcp> asGCPs;
    std::vector<std::string> aosDesc;
    std::vector<const char *> apszDesc;
    std::vector<int> anColor;
    std::list<std::string> aosStrings; /* stable addresses */
    std::vector<hiner_meta_item> asItems;
    std::vector<double> adfFWHM;

    /* A copy of psz (or "") that lives as long as the builder. */
    const char *Keep(const char *psz);

    /* Adds the items of papszMD but STATISTICS_* and aosSkipKeys; nBand -1: the dataset. */
    void AddItems(int nBand, CSLConstList papszMD, const char *pszDomain,
                  const std::vector<std::string> &aosSkipKeys);
};

/* Fills oB from poSrcDS; the wavelength items the file regenerates from oWL are left out. */
void HINERCollectMetadata(GDALDataset *poSrcDS, const HINERWavelengths &oWL,
                          HINERMetaBuilder &oB);

#endif
