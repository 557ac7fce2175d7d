/******************************************************************************
 *
 * Project:  HINER driver
 * Purpose:  What a file keeps of its source besides the pixels: georeferencing (the
 *           CRS as compact as rebuilds it), band descriptions and colours, and every
 *           metadata domain worth storing.
 *
 ******************************************************************************/

#include "hinermetadata.h"

#include <algorithm>
#include <cstring>

#include "cpl_string.h"
#include "ogr_spatialref.h"

#include "hinerdrivercommon.h"

/************************************************************************/
/*                    Metadata of a source, for the file                */
/************************************************************************/

const char *HINERMetaBuilder::Keep(const char *psz)
{
    aosStrings.emplace_back(psz ? psz : "");
    return aosStrings.back().c_str();
}

void HINERMetaBuilder::AddItems(int nBand, CSLConstList papszMD, const char *pszDomain,
                                const std::vector<std::string> &aosSkipKeys)
{
    for (CSLConstList papszIter = papszMD; papszIter && *papszIter; ++papszIter)
    {
        char *pszKey = nullptr;
        const char *pszValue = CPLParseNameValue(*papszIter, &pszKey);
        if (pszKey && pszValue && !STARTS_WITH_CI(pszKey, "STATISTICS_") &&
            std::find(aosSkipKeys.begin(), aosSkipKeys.end(), pszKey) == aosSkipKeys.end())
        {
            hiner_meta_item sItem;
            sItem.band = nBand;
            sItem.domain = Keep(pszDomain);
            sItem.key = Keep(pszKey);
            sItem.value = Keep(pszValue);
            asItems.push_back(sItem);
        }
        CPLFree(pszKey);
    }
}

/* Domains not worth storing: derived from the file structure or recomputed. */
static bool HINERSkipDomain(const char *pszDomain)
{
    return EQUAL(pszDomain, "IMAGE_STRUCTURE") || EQUAL(pszDomain, "DERIVED_SUBDATASETS") ||
           EQUAL(pszDomain, "SUBDATASETS") || STARTS_WITH_CI(pszDomain, "xml:") ||
           STARTS_WITH_CI(pszDomain, "json:");
}

/* The CRS as stored: "EPSG:n" when that code alone rebuilds the same CRS (a few bytes
 * instead of a ~2 KB WKT2 that would cost rate on small files), else WKT2. */
static std::string HINERCompactCRS(const OGRSpatialReference *poSRS)
{
    const char *pszAuth = poSRS->GetAuthorityName(nullptr);
    const char *pszCode = poSRS->GetAuthorityCode(nullptr);
    if (pszAuth && pszCode && EQUAL(pszAuth, "EPSG"))
    {
        OGRSpatialReference oFromCode;
        CPLPushErrorHandler(CPLQuietErrorHandler);
        const bool bSame =
            oFromCode.importFromEPSG(atoi(pszCode)) == OGRERR_NONE && oFromCode.IsSame(poSRS);
        CPLPopErrorHandler();
        if (bSame)
            return std::string("EPSG:") + pszCode;
    }
    char *pszWKT = nullptr;
    const char *const apszOpts[] = {"FORMAT=WKT2_2019", nullptr};
    std::string osWKT;
    if (poSRS->exportToWkt(&pszWKT, apszOpts) == OGRERR_NONE && pszWKT)
        osWKT = pszWKT;
    CPLFree(pszWKT);
    return osWKT;
}

/* Geotransform, CRS, GCPs and their CRS. */
static void HINERCollectGeoreferencing(GDALDataset *poSrcDS, HINERMetaBuilder &oB)
{
    double adfGT[6];
    if (poSrcDS->GetGeoTransform(adfGT) == CE_None)
    {
        oB.sMeta.has_geotransform = 1;
        memcpy(oB.sMeta.geotransform, adfGT, sizeof(adfGT));
    }
    if (const OGRSpatialReference *poSRS = poSrcDS->GetSpatialRef())
    {
        oB.osCRS = HINERCompactCRS(poSRS);
        oB.sMeta.crs_wkt = oB.osCRS.c_str();
    }
    const int nGCPs = poSrcDS->GetGCPCount();
    if (nGCPs <= 0)
        return;
    const GDAL_GCP *pasGCPs = poSrcDS->GetGCPs();
    for (int i = 0; i < nGCPs; i++)
    {
        hiner_gcp sG;
        sG.id = oB.Keep(pasGCPs[i].pszId);
        sG.info = oB.Keep(pasGCPs[i].pszInfo);
        sG.pixel = pasGCPs[i].dfGCPPixel;
        sG.line = pasGCPs[i].dfGCPLine;
        sG.x = pasGCPs[i].dfGCPX;
        sG.y = pasGCPs[i].dfGCPY;
        sG.z = pasGCPs[i].dfGCPZ;
        oB.asGCPs.push_back(sG);
    }
    if (const OGRSpatialReference *poSRS = poSrcDS->GetGCPSpatialRef())
        oB.osGCPCRS = HINERCompactCRS(poSRS);
    oB.sMeta.n_gcps = static_cast<uint32_t>(nGCPs);
    oB.sMeta.gcps = oB.asGCPs.data();
    oB.sMeta.gcp_crs_wkt = oB.osGCPCRS.empty() ? nullptr : oB.osGCPCRS.c_str();
}

/* Dataset metadata, every domain worth keeping. */
static void HINERCollectDatasetItems(GDALDataset *poSrcDS, HINERMetaBuilder &oB)
{
    const std::vector<std::string> aosNoSkip;
    CPLStringList aosDomains(poSrcDS->GetMetadataDomainList());
    bool bDefaultSeen = false;
    for (int i = 0; i < aosDomains.size(); i++)
    {
        if (HINERSkipDomain(aosDomains[i]))
            continue;
        bDefaultSeen |= aosDomains[i][0] == '\0';
        oB.AddItems(-1, poSrcDS->GetMetadata(aosDomains[i]), aosDomains[i], aosNoSkip);
    }
    if (!bDefaultSeen)
        oB.AddItems(-1, poSrcDS->GetMetadata(), "", aosNoSkip);
}

/* The band items of band i (0-based) that the file regenerates exactly from its WAVE
 * chunk, so need not store. */
static std::vector<std::string> HINERRegeneratedItems(GDALRasterBand *poBand, int i,
                                                      const HINERWavelengths &oWL)
{
    std::vector<std::string> aosSkip;
    if (!oWL.bFromBandItems)
        return aosSkip;
    const char *pszWL = poBand->GetMetadataItem("wavelength");
    if (pszWL && HINERFormatDouble(oWL.adfCenter[i]) == pszWL)
        aosSkip.push_back("wavelength");
    const char *pszF = poBand->GetMetadataItem("fwhm");
    if (pszF && !oWL.adfFWHM.empty() && HINERFormatDouble(oWL.adfFWHM[i]) == pszF)
        aosSkip.push_back("fwhm");
    const char *pszU = poBand->GetMetadataItem("wavelength_units");
    if (pszU && oWL.osUnits == pszU)
        aosSkip.push_back("wavelength_units");
    return aosSkip;
}

/* Band metadata of band i (0-based), every domain worth keeping, without the
 * wavelength items the file regenerates (default domain and IMAGERY's). */
static void HINERCollectBandItems(GDALRasterBand *poBand, int i, const HINERWavelengths &oWL,
                                  HINERMetaBuilder &oB)
{
    const std::vector<std::string> aosNoSkip;
    const std::vector<std::string> aosSkip = HINERRegeneratedItems(poBand, i, oWL);
    const std::vector<std::string> aosImagerySkip = {"CENTRAL_WAVELENGTH_UM", "FWHM_UM"};
    CPLStringList aosBandDomains(poBand->GetMetadataDomainList());
    bool bSeen = false;
    for (int d = 0; d < aosBandDomains.size(); d++)
    {
        if (HINERSkipDomain(aosBandDomains[d]))
            continue;
        const bool bDefault = aosBandDomains[d][0] == '\0';
        bSeen |= bDefault;
        oB.AddItems(i, poBand->GetMetadata(aosBandDomains[d]), aosBandDomains[d],
                    bDefault ? aosSkip
                             : (EQUAL(aosBandDomains[d], "IMAGERY") ? aosImagerySkip
                                                                     : aosNoSkip));
    }
    if (!bSeen)
        oB.AddItems(i, poBand->GetMetadata(), "", aosSkip);
}

void HINERCollectMetadata(GDALDataset *poSrcDS, const HINERWavelengths &oWL,
                          HINERMetaBuilder &oB)
{
    const int nBands = poSrcDS->GetRasterCount();
    HINERCollectGeoreferencing(poSrcDS, oB);
    HINERCollectDatasetItems(poSrcDS, oB);
    /* band descriptions, colour interpretation, band metadata */
    oB.aosDesc.resize(nBands);
    oB.anColor.resize(nBands);
    for (int i = 0; i < nBands; i++)
    {
        GDALRasterBand *poBand = poSrcDS->GetRasterBand(i + 1);
        oB.aosDesc[i] = poBand->GetDescription();
        oB.anColor[i] = static_cast<int>(poBand->GetColorInterpretation());
        HINERCollectBandItems(poBand, i, oWL, oB);
    }
    for (int i = 0; i < nBands; i++)
        oB.apszDesc.push_back(oB.aosDesc[i].c_str());
    oB.sMeta.band_descriptions = oB.apszDesc.data();
    oB.sMeta.color_interp = oB.anColor.data();
    oB.sMeta.n_items = static_cast<uint32_t>(oB.asItems.size());
    oB.sMeta.items = oB.asItems.data();
    oB.osUnits = oWL.osUnits;
    oB.sMeta.wavelength_units = oB.osUnits.c_str();
    oB.adfFWHM = oWL.adfFWHM;
    oB.sMeta.fwhm = oB.adfFWHM.empty() ? nullptr : oB.adfFWHM.data();
}
