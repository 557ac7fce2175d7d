/******************************************************************************
 *
 * Project:  HINER driver
 * Purpose:  GDAL raster driver for .hiner files: hyperspectral images stored as a
 *           neural representation (libhiner). Reading decodes bands on demand (and
 *           bands at other wavelengths through the stored spectral encoder);
 *           CreateCopy and Create train the network.
 *
 ******************************************************************************/

#include <algorithm>
#include <cerrno>
#include <cmath>
#include <cstring>
#include <limits>
#include <list>
#include <string>
#include <vector>

#include "cpl_string.h"
#include "cpl_vsi.h"
#include "gdal_frmts.h"
#include "gdal_pam.h"
#include "gdal_priv.h"
#include "ogr_spatialref.h"

#include "hiner_cpp.h"
#include "hinerdataset.h"
#include "hinerdrivercore.h"
#include "hineroptions.h"
#include "hinerdrivercommon.h"
#include "hinerwavelengths.h"


/************************************************************************/
/*                     Creation options to params                       */
/************************************************************************/

static bool HINERFetch(CSLConstList papszOptions, const char *pszName, HINEROptionValue &oVal)
{
    return HINERFetchOption(papszOptions, HINER_CREATION_OPTIONS, pszName, oVal);
}

/* BPPPB or SIZE, EPOCHS, QUANT_BITS: what sizes and trains the network */
static bool HINERParseBudgetOptions(CSLConstList papszOptions, hiner_params *psParams)
{
    HINEROptionValue oVal;
    if (!HINERFetch(papszOptions, "BPPPB", oVal))
        return false;
    if (oVal.bSet)
        psParams->bpppb = oVal.dfValue;
    if (!HINERFetch(papszOptions, "SIZE", oVal))
        return false;
    psParams->size_bytes = oVal.bSet ? static_cast<uint64_t>(oVal.nValue) : 0;
    if (CSLFetchNameValue(papszOptions, "SIZE") && CSLFetchNameValue(papszOptions, "BPPPB"))
    {
        CPLError(CE_Failure, CPLE_IllegalArg,
                 "BPPPB and SIZE both set: give one size target, not two");
        return false;
    }
    if (!HINERFetch(papszOptions, "EPOCHS", oVal))
        return false;
    if (oVal.bSet && !oVal.bWord)
        psParams->epochs = static_cast<int>(oVal.nValue);
    if (!HINERFetch(papszOptions, "QUANT_BITS", oVal))
        return false;
    if (oVal.bSet)
        psParams->quant_bits = static_cast<int>(oVal.nValue);
    return true;
}

/* SEED, QAT_EPOCHS, LR and the loss weights */
static bool HINERParseTrainingOptions(CSLConstList papszOptions, hiner_params *psParams)
{
    HINEROptionValue oVal;
    if (!HINERFetch(papszOptions, "SEED", oVal))
        return false;
    if (oVal.bSet)
        psParams->seed = static_cast<uint64_t>(oVal.nValue);
    if (!HINERFetch(papszOptions, "QAT_EPOCHS", oVal))
        return false;
    if (oVal.bSet)
        psParams->qat_epochs = static_cast<int>(oVal.nValue);
    if (!HINERFetch(papszOptions, "LR", oVal))
        return false;
    if (oVal.bSet)
        psParams->lr = static_cast<float>(oVal.dfValue);
    if (!HINERFetch(papszOptions, "W_L1", oVal))
        return false;
    if (oVal.bSet)
        psParams->w_l1 = static_cast<float>(oVal.dfValue);
    if (!HINERFetch(papszOptions, "W_CAM", oVal))
        return false;
    if (oVal.bSet)
        psParams->w_cam = static_cast<float>(oVal.dfValue);
    if (psParams->w_l1 == 0 && psParams->w_cam == 0)
    {
        CPLError(CE_Failure, CPLE_IllegalArg,
                 "W_L1=0 and W_CAM=0: at least one loss weight must be positive");
        return false;
    }
    return true;
}

/* STRIDES, ENCODER, ENTROPY: the network's shape and what the file stores */
static bool HINERParseLayoutOptions(CSLConstList papszOptions, hiner_params *psParams)
{
    HINEROptionValue oVal;
    if (!HINERFetch(papszOptions, "STRIDES", oVal))
        return false;
    if (oVal.bSet)
    {
        psParams->n_stages = static_cast<int>(oVal.anItems.size());
        for (size_t i = 0; i < oVal.anItems.size(); i++)
            psParams->strides[i] = oVal.anItems[i];
    }
    if (!HINERFetch(papszOptions, "ENCODER", oVal))
        return false;
    if (oVal.bSet)
        psParams->store_encoder = oVal.bValue ? 1 : 0;
    if (!HINERFetch(papszOptions, "ENTROPY", oVal))
        return false;
    static const int anEntropy[] = {HINER_ENTROPY_DEFAULT, HINER_ENTROPY_HUFFMAN,
                                    HINER_ENTROPY_ARITH};
    if (oVal.bSet)
        psParams->entropy = anEntropy[oVal.iChoice];
    return true;
}

/* Creation options into libhiner params; false (with a CPLE_IllegalArg naming the option)
 * on any bad value. */
static bool HINERParseCreationOptions(CSLConstList papszOptions, hiner_params *psParams)
{
    hiner_params_init(psParams, HINER_ABI_VERSION);
    if (!HINERParseBudgetOptions(papszOptions, psParams) ||
        !HINERParseTrainingOptions(papszOptions, psParams))
        return false;
    /* NUM_THREADS, defaulting to GDAL_NUM_THREADS, then to every CPU */
    const char *pszThreads = CSLFetchNameValueDef(
        papszOptions, "NUM_THREADS", CPLGetConfigOption("GDAL_NUM_THREADS", "ALL_CPUS"));
    if (!HINERParseThreads(HINER_CREATION_OPTIONS, pszThreads, &psParams->threads))
    {
        CPLError(CE_Failure, CPLE_IllegalArg, "NUM_THREADS=%s is not a legal value: expected %s",
                 pszThreads,
                 HINEROptionExpected(*HINERFindOption(HINER_CREATION_OPTIONS, "NUM_THREADS"))
                     .c_str());
        return false;
    }
    return HINERParseLayoutOptions(papszOptions, psParams);
}

/************************************************************************/
/*                    Metadata of a source, for the file                */
/************************************************************************/

namespace
{
/* Owns the strings behind a hiner_meta built from a GDAL dataset. */
struct HINERMetaBuilder
{
    hiner_meta sMeta{};
    std::string osCRS, osGCPCRS, osUnits;
    std::vector<hiner_gcp> asGCPs;
    std::vector<std::string> aosGCPId, aosGCPInfo;
    std::vector<std::string> aosDesc;
    std::vector<const char *> apszDesc;
    std::vector<int> anColor;
    std::list<std::string> aosStrings; /* stable addresses */
    std::vector<hiner_meta_item> asItems;
    std::vector<double> adfFWHM;

    const char *Keep(const char *psz)
    {
        aosStrings.emplace_back(psz ? psz : "");
        return aosStrings.back().c_str();
    }

    void AddItems(int nBand, CSLConstList papszMD, const char *pszDomain,
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
};
}  // namespace

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

static void HINERCollectMetadata(GDALDataset *poSrcDS, const HINERWavelengths &oWL,
                                 HINERMetaBuilder &oB)
{
    const int nBands = poSrcDS->GetRasterCount();
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
    if (nGCPs > 0)
    {
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

    /* dataset metadata, every domain worth keeping */
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

    /* band descriptions, colour interpretation, band metadata; the wavelength items the
     * file regenerates exactly from its WAVE chunk are left out */
    oB.aosDesc.resize(nBands);
    oB.anColor.resize(nBands);
    for (int i = 0; i < nBands; i++)
    {
        GDALRasterBand *poBand = poSrcDS->GetRasterBand(i + 1);
        oB.aosDesc[i] = poBand->GetDescription();
        oB.anColor[i] = static_cast<int>(poBand->GetColorInterpretation());
        std::vector<std::string> aosSkip;
        if (oWL.bFromBandItems)
        {
            const char *pszWL = poBand->GetMetadataItem("wavelength");
            if (pszWL && HINERFormatDouble(oWL.adfCenter[i]) == pszWL)
                aosSkip.push_back("wavelength");
            const char *pszF = poBand->GetMetadataItem("fwhm");
            if (pszF && !oWL.adfFWHM.empty() && HINERFormatDouble(oWL.adfFWHM[i]) == pszF)
                aosSkip.push_back("fwhm");
            const char *pszU = poBand->GetMetadataItem("wavelength_units");
            if (pszU && oWL.osUnits == pszU)
                aosSkip.push_back("wavelength_units");
        }
        CPLStringList aosBandDomains(poBand->GetMetadataDomainList());
        bool bSeen = false;
        for (int d = 0; d < aosBandDomains.size(); d++)
        {
            if (HINERSkipDomain(aosBandDomains[d]))
                continue;
            const bool bDefault = aosBandDomains[d][0] == '\0';
            bSeen |= bDefault;
            /* IMAGERY wavelengths are regenerated too */
            std::vector<std::string> aosImagerySkip = {"CENTRAL_WAVELENGTH_UM", "FWHM_UM"};
            oB.AddItems(i, poBand->GetMetadata(aosBandDomains[d]), aosBandDomains[d],
                        bDefault ? aosSkip
                                 : (EQUAL(aosBandDomains[d], "IMAGERY") ? aosImagerySkip
                                                                         : aosNoSkip));
        }
        if (!bSeen)
            oB.AddItems(i, poBand->GetMetadata(), "", aosSkip);
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

HINERRasterBand::HINERRasterBand(HINERDataset *poDSIn, int nBandIn, GDALDataType eDT)
{
    poDS = poDSIn;
    nBand = nBandIn;
    eDataType = eDT;
    nBlockXSize = poDSIn->GetRasterXSize();
    /* strips of about 1 MB: the dataset caches whole decoded bands, blocks are views */
    const int nRowBytes = std::max(1, nBlockXSize * GDALGetDataTypeSizeBytes(eDT));
    nBlockYSize = std::max(1, std::min(poDSIn->GetRasterYSize(), (1 << 20) / nRowBytes));
}

CPLErr HINERRasterBand::IReadBlock(int /*nBlockXOff*/, int nBlockYOff, void *pImage)
{
    auto poGDS = cpl::down_cast<HINERDataset *>(poDS);
    const int nDTSize = GDALGetDataTypeSizeBytes(eDataType);
    const size_t nRowBytes = static_cast<size_t>(nBlockXSize) * nDTSize;
    const int nRow0 = nBlockYOff * nBlockYSize;
    const int nRows = std::min(nBlockYSize, nRasterYSize - nRow0);
    if (poGDS->m_bWriteMode)
    {
        /* blocks written so far, read back from the temporary file (zeros elsewhere) */
        const vsi_l_offset nOff =
            (static_cast<vsi_l_offset>(nBand - 1) * nRasterYSize + nRow0) * nRowBytes;
        memset(pImage, 0, nRowBytes * nBlockYSize);
        if (VSIFSeekL(poGDS->m_fpTemp, nOff, SEEK_SET) != 0)
            return CE_Failure;
        VSIFReadL(pImage, 1, nRowBytes * nRows, poGDS->m_fpTemp);
        return CE_None;
    }
    const GByte *pabyBand = poGDS->GetBand(nBand);
    if (pabyBand == nullptr)
        return CE_Failure;
    memcpy(pImage, pabyBand + nRow0 * nRowBytes, nRowBytes * nRows);
    if (nRows < nBlockYSize)
        memset(static_cast<GByte *>(pImage) + nRowBytes * nRows, 0,
               nRowBytes * (nBlockYSize - nRows));
    return CE_None;
}

CPLErr HINERRasterBand::IWriteBlock(int /*nBlockXOff*/, int nBlockYOff, void *pImage)
{
    auto poGDS = cpl::down_cast<HINERDataset *>(poDS);
    if (!poGDS->m_bWriteMode)
    {
        CPLError(CE_Failure, CPLE_NoWriteAccess, "HINER: the dataset is read-only");
        return CE_Failure;
    }
    const size_t nRowBytes = static_cast<size_t>(nBlockXSize) * GDALGetDataTypeSizeBytes(eDataType);
    const int nRow0 = nBlockYOff * nBlockYSize;
    const int nRows = std::min(nBlockYSize, nRasterYSize - nRow0);
    const vsi_l_offset nOff =
        (static_cast<vsi_l_offset>(nBand - 1) * nRasterYSize + nRow0) * nRowBytes;
    if (VSIFSeekL(poGDS->m_fpTemp, nOff, SEEK_SET) != 0 ||
        VSIFWriteL(pImage, 1, nRowBytes * nRows, poGDS->m_fpTemp) != nRowBytes * nRows)
    {
        poGDS->m_bTempWriteFailed = true;
        CPLError(CE_Failure, CPLE_FileIO, "HINER: cannot write the temporary file %s",
                 poGDS->m_osTempFilename.c_str());
        return CE_Failure;
    }
    return CE_None;
}

double HINERRasterBand::GetNoDataValue(int *pbSuccess)
{
    if (pbSuccess)
        *pbSuccess = m_bHasNoData;
    return m_bHasNoData ? m_dfNoData : GDALPamRasterBand::GetNoDataValue(pbSuccess);
}

CPLErr HINERRasterBand::SetNoDataValue(double dfNoData)
{
    auto poGDS = cpl::down_cast<HINERDataset *>(poDS);
    if (!poGDS->m_bWriteMode)
        return GDALPamRasterBand::SetNoDataValue(dfNoData);
    m_bHasNoData = true;
    m_dfNoData = dfNoData;
    return CE_None;
}

GDALColorInterp HINERRasterBand::GetColorInterpretation()
{
    return m_eColorInterp;
}

CPLErr HINERRasterBand::SetColorInterpretation(GDALColorInterp eInterp)
{
    m_eColorInterp = eInterp;
    return CE_None;
}

/************************************************************************/
/*                       HINERDataset: basics                           */
/************************************************************************/

HINERDataset::HINERDataset() = default;

HINERDataset::~HINERDataset()
{
    if (m_bWriteMode)
        WriteOnClose();
    else
        HINERDataset::FlushCache(true);
    if (!m_asGCPs.empty())
        GDALDeinitGCPs(static_cast<int>(m_asGCPs.size()), m_asGCPs.data());
}

CPLErr HINERDataset::GetGeoTransform(double *padfTransform)
{
    if (m_bGeoTransformValid)
    {
        memcpy(padfTransform, m_adfGeoTransform, sizeof(m_adfGeoTransform));
        return CE_None;
    }
    return GDALPamDataset::GetGeoTransform(padfTransform);
}

CPLErr HINERDataset::SetGeoTransform(double *padfTransform)
{
    if (!m_bWriteMode)
        return GDALPamDataset::SetGeoTransform(padfTransform);
    memcpy(m_adfGeoTransform, padfTransform, sizeof(m_adfGeoTransform));
    m_bGeoTransformValid = true;
    return CE_None;
}

const OGRSpatialReference *HINERDataset::GetSpatialRef() const
{
    if (!m_oSRS.IsEmpty())
        return &m_oSRS;
    return GDALPamDataset::GetSpatialRef();
}

CPLErr HINERDataset::SetSpatialRef(const OGRSpatialReference *poSRS)
{
    if (!m_bWriteMode)
        return GDALPamDataset::SetSpatialRef(poSRS);
    m_oSRS.Clear();
    if (poSRS)
        m_oSRS = *poSRS;
    return CE_None;
}

int HINERDataset::GetGCPCount()
{
    if (!m_asGCPs.empty())
        return static_cast<int>(m_asGCPs.size());
    return GDALPamDataset::GetGCPCount();
}

const GDAL_GCP *HINERDataset::GetGCPs()
{
    if (!m_asGCPs.empty())
        return m_asGCPs.data();
    return GDALPamDataset::GetGCPs();
}

const OGRSpatialReference *HINERDataset::GetGCPSpatialRef() const
{
    if (!m_asGCPs.empty())
        return m_oGCPSRS.IsEmpty() ? nullptr : &m_oGCPSRS;
    return GDALPamDataset::GetGCPSpatialRef();
}

CPLErr HINERDataset::SetGCPs(int nGCPCount, const GDAL_GCP *pasGCPList,
                             const OGRSpatialReference *poGCP_SRS)
{
    if (!m_bWriteMode)
        return GDALPamDataset::SetGCPs(nGCPCount, pasGCPList, poGCP_SRS);
    if (!m_asGCPs.empty())
        GDALDeinitGCPs(static_cast<int>(m_asGCPs.size()), m_asGCPs.data());
    m_asGCPs.resize(nGCPCount);
    if (nGCPCount > 0)
    {
        GDAL_GCP *pasDup = GDALDuplicateGCPs(nGCPCount, pasGCPList);
        memcpy(m_asGCPs.data(), pasDup, sizeof(GDAL_GCP) * nGCPCount);
        CPLFree(pasDup);
    }
    m_oGCPSRS.Clear();
    if (poGCP_SRS)
        m_oGCPSRS = *poGCP_SRS;
    return CE_None;
}

/************************************************************************/
/*                    Decoded band cache (reading)                      */
/************************************************************************/

const GByte *HINERDataset::GetBand(int nBand)
{
    for (auto oIter = m_oCache.begin(); oIter != m_oCache.end(); ++oIter)
    {
        if (oIter->nBand == nBand)
        {
            if (oIter != m_oCache.begin())
                m_oCache.splice(m_oCache.begin(), m_oCache, oIter);
            return m_oCache.front().abyData.data();
        }
    }
    if (std::find(m_anFailed.begin(), m_anFailed.end(), nBand) != m_anFailed.end())
    {
        CPLError(CE_Failure, CPLE_AppDefined, "HINER: band %d could not be decoded", nBand);
        return nullptr;
    }
    const GDALDataType eDT = GetRasterBand(nBand)->GetRasterDataType();
    const size_t nBytes = static_cast<size_t>(nRasterXSize) * nRasterYSize *
                          GDALGetDataTypeSizeBytes(eDT);
    CachedBand oEntry;
    oEntry.nBand = nBand;
    /* reuse the least recently used buffer when the cache is full */
    if (m_oCache.size() >= m_nCacheBands)
    {
        oEntry.abyData.swap(m_oCache.back().abyData);
        m_oCache.pop_back();
    }
    try
    {
        oEntry.abyData.resize(nBytes);
    }
    catch (const std::exception &)
    {
        CPLError(CE_Failure, CPLE_OutOfMemory, "HINER: cannot allocate a decoded band");
        return nullptr;
    }
    const int nStatus =
        m_bInterpolated
            ? hiner_model_decode_wavelength_as(m_poModel.get(), m_adfBandWL[nBand - 1],
                                               m_eFileType, oEntry.abyData.data())
            : hiner_model_decode_band_as(m_poModel.get(), static_cast<uint32_t>(nBand - 1),
                                         m_eFileType, oEntry.abyData.data());
    if (nStatus != HINER_OK)
    {
        m_anFailed.push_back(nBand);
        CPLError(CE_Failure, HINERErrorNum(nStatus), "HINER: decoding band %d failed: %s",
                 nBand, hiner_status_str(nStatus));
        return nullptr;
    }
    m_oCache.push_front(std::move(oEntry));
    return m_oCache.front().abyData.data();
}

/************************************************************************/
/*                                 Open                                 */
/************************************************************************/

static int HINERVSIReadAt(void *pUser, uint64_t nOffset, void *pBuf, size_t nBytes)
{
    VSILFILE *fp = static_cast<VSILFILE *>(pUser);
    if (VSIFSeekL(fp, static_cast<vsi_l_offset>(nOffset), SEEK_SET) != 0)
        return 1;
    return VSIFReadL(pBuf, 1, nBytes, fp) == nBytes ? 0 : 1;
}

GDALDataset *HINERDataset::Open(GDALOpenInfo *poOpenInfo)
{
    try
    {
        return OpenInternal(poOpenInfo);
    }
    catch (const std::exception &e)
    {
        CPLError(CE_Failure, CPLE_AppDefined, "HINER: cannot open %s: %s",
                 poOpenInfo->pszFilename, e.what());
        return nullptr;
    }
}

GDALDataset *HINERDataset::OpenInternal(GDALOpenInfo *poOpenInfo)
{
    if (!HINERDriverIdentify(poOpenInfo) || poOpenInfo->fpL == nullptr)
        return nullptr;
    if (poOpenInfo->eAccess == GA_Update)
    {
        CPLError(CE_Failure, CPLE_NotSupported,
                 "HINER: update of existing files is not supported; write a new file with "
                 "gdal_translate -of HINER");
        return nullptr;
    }
    VSILFILE *fp = poOpenInfo->fpL;
    if (VSIFSeekL(fp, 0, SEEK_END) != 0)
        return nullptr;
    const vsi_l_offset nSize = VSIFTellL(fp);
    hiner_reader sReader;
    sReader.size = static_cast<uint64_t>(nSize);
    sReader.read_at = HINERVSIReadAt;
    sReader.user = fp;
    hiner_model *psModel = nullptr;
    const int nStatus = hiner_open(&sReader, &psModel);
    if (nStatus != HINER_OK)
    {
        CPLError(CE_Failure, HINERErrorNum(nStatus), "HINER: cannot open %s: %s",
                 poOpenInfo->pszFilename, hiner_status_str(nStatus));
        return nullptr;
    }
    HINERModelPtr poModel(psModel);
    hiner_info sInfo;
    hiner_meta sMeta;
    hiner_model_info(poModel.get(), &sInfo);
    hiner_model_meta(poModel.get(), &sMeta);

    std::vector<double> adfRequested;
    if (!HINERRequestedWavelengths(poOpenInfo, sInfo, sMeta, adfRequested))
        return nullptr;

    auto poDS = std::make_unique<HINERDataset>();
    poDS->nRasterXSize = static_cast<int>(sInfo.width);
    poDS->nRasterYSize = static_cast<int>(sInfo.height);
    poDS->m_eFileType = sInfo.dtype;
    poDS->m_poModel = std::move(poModel);
    const GDALDataType eDT = HINERTypeToGDAL(sInfo.dtype);
    const double *padfWL = hiner_model_wavelengths(poDS->m_poModel.get());
    const char *pszUnits = sMeta.wavelength_units;

    /* georeferencing */
    if (sMeta.has_geotransform)
    {
        memcpy(poDS->m_adfGeoTransform, sMeta.geotransform, sizeof(poDS->m_adfGeoTransform));
        poDS->m_bGeoTransformValid = true;
    }
    if (sMeta.crs_wkt && sMeta.crs_wkt[0])
    {
        poDS->m_oSRS.SetAxisMappingStrategy(OAMS_TRADITIONAL_GIS_ORDER);
        if (poDS->m_oSRS.SetFromUserInput(
                sMeta.crs_wkt, OGRSpatialReference::SET_FROM_USER_INPUT_LIMITATIONS) !=
            OGRERR_NONE)
            poDS->m_oSRS.Clear();
    }
    if (sMeta.n_gcps)
    {
        std::vector<GDAL_GCP> asG(sMeta.n_gcps);
        for (uint32_t i = 0; i < sMeta.n_gcps; i++)
        {
            asG[i].pszId = const_cast<char *>(sMeta.gcps[i].id);
            asG[i].pszInfo = const_cast<char *>(sMeta.gcps[i].info);
            asG[i].dfGCPPixel = sMeta.gcps[i].pixel;
            asG[i].dfGCPLine = sMeta.gcps[i].line;
            asG[i].dfGCPX = sMeta.gcps[i].x;
            asG[i].dfGCPY = sMeta.gcps[i].y;
            asG[i].dfGCPZ = sMeta.gcps[i].z;
        }
        GDAL_GCP *pasDup = GDALDuplicateGCPs(static_cast<int>(asG.size()), asG.data());
        poDS->m_asGCPs.assign(pasDup, pasDup + asG.size());
        CPLFree(pasDup);
        if (sMeta.gcp_crs_wkt && sMeta.gcp_crs_wkt[0])
        {
            poDS->m_oGCPSRS.SetAxisMappingStrategy(OAMS_TRADITIONAL_GIS_ORDER);
            if (poDS->m_oGCPSRS.SetFromUserInput(
                    sMeta.gcp_crs_wkt, OGRSpatialReference::SET_FROM_USER_INPUT_LIMITATIONS) !=
                OGRERR_NONE)
                poDS->m_oGCPSRS.Clear();
        }
    }

    /* dataset metadata */
    for (uint32_t i = 0; i < sMeta.n_items; i++)
        if (sMeta.items[i].band < 0)
            HINERSetItem(poDS.get(), sMeta.items[i].key, sMeta.items[i].value,
                         sMeta.items[i].domain);
    HINERSetItem(poDS.get(), "COMPRESSION", "HINER", "IMAGE_STRUCTURE");
    HINERSetItem(poDS.get(), "INTERLEAVE", "BAND", "IMAGE_STRUCTURE");
    if (!sInfo.has_encoder)
        HINERSetItem(poDS.get(), "WAVELENGTH_INTERPOLATION", "UNAVAILABLE", "HINER");
    else
        HINERSetItem(poDS.get(), "WAVELENGTH_INTERPOLATION", "AVAILABLE", "HINER");
    CPLString osRate;
    osRate.Printf("%.4f", sInfo.bpppb);
    HINERSetItem(poDS.get(), "BPPPB", osRate, "HINER");
    osRate.Printf("%u", sInfo.bands);
    HINERSetItem(poDS.get(), "STORED_BANDS", osRate, "HINER");

    /* bands: the stored ones, or the requested wavelengths */
    const bool bInterp = !adfRequested.empty();
    poDS->m_bInterpolated = bInterp;
    const int nBands = bInterp ? static_cast<int>(adfRequested.size()) : static_cast<int>(sInfo.bands);
    for (int i = 0; i < nBands; i++)
    {
        auto poBand = new HINERRasterBand(poDS.get(), i + 1, eDT);
        poDS->SetBand(i + 1, poBand);
        poBand->m_bHasNoData = sInfo.has_nodata != 0;
        poBand->m_dfNoData = sInfo.nodata;
        if (!bInterp)
        {
            poDS->m_adfBandWL.push_back(padfWL ? padfWL[i] : NAN);
            if (sMeta.band_descriptions && sMeta.band_descriptions[i])
                poBand->GDALMajorObject::SetDescription(sMeta.band_descriptions[i]);
            if (sMeta.color_interp)
                poBand->m_eColorInterp = static_cast<GDALColorInterp>(sMeta.color_interp[i]);
            if (padfWL)
                HINERSetWavelengthItems(poBand, padfWL[i], sMeta.fwhm ? sMeta.fwhm[i] : NAN,
                                        pszUnits);
        }
        else
        {
            /* positions without wavelengths are 1-based band numbers */
            const double dfAt = padfWL ? adfRequested[i] : adfRequested[i] - 1.0;
            poDS->m_adfBandWL.push_back(dfAt);
            double dfFWHM = NAN;
            if (padfWL && sMeta.fwhm)
            {
                dfFWHM = HINERInterpolateFWHM(padfWL, sMeta.fwhm, sInfo.bands, dfAt);
            }
            CPLString osDesc;
            if (padfWL)
            {
                osDesc.Printf("%s %s (interpolated)", HINERFormatDouble(adfRequested[i]).c_str(),
                              pszUnits && pszUnits[0] ? pszUnits : "");
                HINERSetWavelengthItems(poBand, adfRequested[i], dfFWHM, pszUnits);
            }
            else
            {
                osDesc.Printf("band position %s (interpolated)",
                              HINERFormatDouble(adfRequested[i]).c_str());
            }
            poBand->GDALMajorObject::SetDescription(osDesc);
        }
    }
    /* stored band metadata (the wavelength items came from WAVE above; stored ones win) */
    if (!bInterp)
    {
        for (uint32_t i = 0; i < sMeta.n_items; i++)
        {
            const hiner_meta_item &sItem = sMeta.items[i];
            if (sItem.band >= 0 && sItem.band < nBands)
                HINERSetItem(poDS->GetRasterBand(sItem.band + 1), sItem.key, sItem.value,
                             sItem.domain);
        }
    }

    /* the decoded band cache: CACHE_MB (open option) or HINER_CACHE_MB (config) */
    HINEROptionValue oVal;
    HINERTuningOpenOption(poOpenInfo->papszOpenOptions, "CACHE_MB", "HINER_CACHE_MB", oVal);
    const double dfCacheMB = oVal.dfValue;
    const double dfBandMB = static_cast<double>(poDS->nRasterXSize) * poDS->nRasterYSize *
                            GDALGetDataTypeSizeBytes(eDT) / (1024.0 * 1024.0);
    poDS->m_nCacheBands =
        static_cast<size_t>(std::max(1.0, std::min(dfCacheMB / std::max(dfBandMB, 1e-9), 1e6)));

    /* decoding threads: NUM_THREADS, else GDAL_NUM_THREADS, else every CPU */
    HINERTuningOpenOption(poOpenInfo->papszOpenOptions, "NUM_THREADS", "GDAL_NUM_THREADS", oVal);
    const int nThreads = oVal.bWord ? CPLGetNumCPUs() : static_cast<int>(oVal.nValue);
    hiner_model_set_threads(poDS->m_poModel.get(), nThreads);

    poDS->SetDescription(poOpenInfo->pszFilename);
    if (bInterp)
    {
        /* the .aux.xml beside the file describes the stored bands: a view at other
         * wavelengths must neither read nor overwrite it */
        poDS->nPamFlags |= GPF_DISABLED;
    }
    else
    {
        poDS->TryLoadXML(poOpenInfo->GetSiblingFiles());
    }
    poDS->oOvManager.Initialize(poDS.get(), poOpenInfo->pszFilename,
                                poOpenInfo->GetSiblingFiles());
    return poDS.release();
}

/************************************************************************/
/*                          Encoding helpers                            */
/************************************************************************/

namespace
{
/* Reads one band of the source through GDAL, in the file's data type. */
struct HINERSourceReader
{
    GDALDataset *poSrcDS;
    GDALDataType eDT;
};

/* Writes the encoded stream through VSI. */
struct HINERVSIWriter
{
    VSILFILE *fp;
    int nErrno; /* of the first failed write (disk full, file too large), else 0 */
};
}  // namespace

static int HINERReadBand(void *pUser, uint32_t nBand, void *pOut)
{
    auto psR = static_cast<HINERSourceReader *>(pUser);
    GDALRasterBand *poBand = psR->poSrcDS->GetRasterBand(static_cast<int>(nBand) + 1);
    const int nX = psR->poSrcDS->GetRasterXSize(), nY = psR->poSrcDS->GetRasterYSize();
    return poBand->RasterIO(GF_Read, 0, 0, nX, nY, pOut, nX, nY, psR->eDT, 0, 0, nullptr) ==
                   CE_None
               ? 0
               : 1;
}

static int HINERWrite(void *pUser, const void *pData, size_t nBytes)
{
    auto psW = static_cast<HINERVSIWriter *>(pUser);
    errno = 0;
    if (VSIFWriteL(pData, 1, nBytes, psW->fp) == nBytes)
        return 0;
    if (psW->nErrno == 0)
        psW->nErrno = errno ? errno : EIO;
    return 1;
}

namespace
{
struct HINERProgressCtx
{
    GDALProgressFunc pfnProgress;
    void *pProgressData;
};
}  // namespace

static int HINERProgress(double dfFrac, const char *pszMsg, void *pUser)
{
    auto psP = static_cast<HINERProgressCtx *>(pUser);
    return psP->pfnProgress(dfFrac, pszMsg, psP->pProgressData);
}

/* Encodes poSrcDS (a source, or the Create() dataset reading its temporary file) into
 * pszFilename: written to a temporary name beside it and renamed, removed on failure. */
static bool HINEREncode(const char *pszFilename, GDALDataset *poSrcDS, hiner_params *psParams,
                        GDALProgressFunc pfnProgress, void *pProgressData)
{
    const int nBands = poSrcDS->GetRasterCount();
    if (nBands == 0)
    {
        CPLError(CE_Failure, CPLE_NotSupported, "HINER: the source has no band");
        return false;
    }
    const GDALDataType eSrcDT = poSrcDS->GetRasterBand(1)->GetRasterDataType();
    hiner_dtype eType;
    if (!HINERTypeFromGDAL(eSrcDT, &eType))
    {
        CPLError(CE_Failure, CPLE_NotSupported,
                 "HINER: data type %s is not supported (Byte, Int16, UInt16, Int32, UInt32, "
                 "Float32 and Float64 are)",
                 GDALGetDataTypeName(eSrcDT));
        return false;
    }
    if (poSrcDS->GetRasterXSize() > 65535 || poSrcDS->GetRasterYSize() > 65535 || nBands > 65535)
    {
        CPLError(CE_Failure, CPLE_NotSupported,
                 "HINER: %d x %d x %d is beyond the format's limits (65535 per dimension)",
                 poSrcDS->GetRasterXSize(), poSrcDS->GetRasterYSize(), nBands);
        return false;
    }
    HINERWavelengths oWL = HINERGetWavelengths(poSrcDS);
    HINERMetaBuilder oMeta;
    HINERCollectMetadata(poSrcDS, oWL, oMeta);

    HINERSourceReader sReader{poSrcDS, eSrcDT};
    hiner_cube sCube{};
    sCube.width = static_cast<uint32_t>(poSrcDS->GetRasterXSize());
    sCube.height = static_cast<uint32_t>(poSrcDS->GetRasterYSize());
    sCube.bands = static_cast<uint32_t>(nBands);
    sCube.dtype = eType;
    sCube.read_band = HINERReadBand;
    sCube.read_user = &sReader;
    int bHasNoData = FALSE;
    const double dfNoData = poSrcDS->GetRasterBand(1)->GetNoDataValue(&bHasNoData);
    sCube.has_nodata = bHasNoData;
    sCube.nodata = dfNoData;
    sCube.wavelengths = oWL.adfCenter.empty() ? nullptr : oWL.adfCenter.data();

    HINERLog oLog;
    HINERProgressCtx sProgress{pfnProgress ? pfnProgress : GDALDummyProgress, pProgressData};
    psParams->progress = HINERProgress;
    psParams->progress_user = &sProgress;
    psParams->log = HINERLogFn;
    psParams->log_user = &oLog;

    const std::string osTemp = std::string(pszFilename) + ".hiner-part";
    VSILFILE *fp = VSIFOpenL(osTemp.c_str(), "wb");
    if (fp == nullptr)
    {
        CPLError(CE_Failure, CPLE_OpenFailed, "HINER: cannot create %s", osTemp.c_str());
        return false;
    }
    HINERVSIWriter sWriter{fp, 0};
    hiner_encode_report sReport;
    int nStatus = hiner_encode(&sCube, &oMeta.sMeta, psParams, HINERWrite, &sWriter, &sReport);
    errno = 0;
    if (VSIFCloseL(fp) != 0 && sWriter.nErrno == 0)
        sWriter.nErrno = errno ? errno : EIO;
    if (sWriter.nErrno != 0 && (nStatus == HINER_OK || nStatus == HINER_E_IO))
    {
        nStatus = HINER_E_IO;
        oLog.osLastError = CPLSPrintf("cannot write %s: %s", osTemp.c_str(),
                                      VSIStrerror(sWriter.nErrno));
    }
    if (nStatus == HINER_OK && VSIRename(osTemp.c_str(), pszFilename) != 0)
    {
        CPLError(CE_Failure, CPLE_FileIO, "HINER: cannot rename %s to %s", osTemp.c_str(),
                 pszFilename);
        VSIUnlink(osTemp.c_str());
        return false;
    }
    if (nStatus != HINER_OK)
    {
        VSIUnlink(osTemp.c_str());
        HINERReportError(nStatus, oLog, "encoding");
        return false;
    }
    CPLDebug("HINER", "%s: " CPL_FRMT_GUIB " bytes, %.4f bpppb, PSNR %.2f dB (%.2f before "
             "quantization), %.1f s of training",
             pszFilename, static_cast<GUIntBig>(sReport.bits.total), sReport.bpppb,
             sReport.psnr_quantized, sReport.psnr_float, sReport.train.seconds);
    return true;
}

/************************************************************************/
/*                              CreateCopy                              */
/************************************************************************/

GDALDataset *HINERDataset::CreateCopy(const char *pszFilename, GDALDataset *poSrcDS,
                                      int bStrict, char **papszOptions,
                                      GDALProgressFunc pfnProgress, void *pProgressData)
{
    try
    {
        hiner_params sParams;
        if (!HINERParseCreationOptions(papszOptions, &sParams))
            return nullptr;
        const int nBands = poSrcDS->GetRasterCount();
        for (int i = 2; i <= nBands; i++)
        {
            if (poSrcDS->GetRasterBand(i)->GetRasterDataType() !=
                poSrcDS->GetRasterBand(1)->GetRasterDataType())
            {
                CPLError(bStrict ? CE_Failure : CE_Warning, CPLE_NotSupported,
                         "HINER: bands of different data types; band 1's type is used for all");
                if (bStrict)
                    return nullptr;
                break;
            }
        }
        int bHasNoData1 = FALSE;
        const double dfNoData1 = nBands ? poSrcDS->GetRasterBand(1)->GetNoDataValue(&bHasNoData1) : 0;
        for (int i = 2; i <= nBands; i++)
        {
            int bHas = FALSE;
            const double dfNoData = poSrcDS->GetRasterBand(i)->GetNoDataValue(&bHas);
            if (bHas != bHasNoData1 || (bHas && dfNoData != dfNoData1 &&
                                        !(std::isnan(dfNoData) && std::isnan(dfNoData1))))
            {
                CPLError(bStrict ? CE_Failure : CE_Warning, CPLE_NotSupported,
                         "HINER: bands have different NoData values; band 1's is used for all");
                if (bStrict)
                    return nullptr;
                break;
            }
        }
        if (!HINEREncode(pszFilename, poSrcDS, &sParams, pfnProgress, pProgressData))
            return nullptr;
        GDALOpenInfo oOpenInfo(pszFilename, GA_ReadOnly);
        auto poDS = cpl::down_cast<HINERDataset *>(Open(&oOpenInfo));
        if (poDS)
        {
            /* what the file does not store goes to PAM (.aux.xml) when present */
            const int nFlags = GCIF_PROCESS_BANDS | GCIF_CATEGORYNAMES | GCIF_SCALEOFFSET |
                               GCIF_UNITTYPE | GCIF_COLORTABLE | GCIF_RAT | GCIF_ONLY_IF_MISSING;
            poDS->CloneInfo(poSrcDS, nFlags);
        }
        return poDS;
    }
    catch (const std::exception &e)
    {
        CPLError(CE_Failure, CPLE_AppDefined, "HINER: %s", e.what());
        return nullptr;
    }
}

/************************************************************************/
/*                                Create                                */
/************************************************************************/

GDALDataset *HINERDataset::Create(const char *pszFilename, int nXSize, int nYSize, int nBands,
                                  GDALDataType eType, char **papszOptions)
{
    try
    {
        hiner_params sParams;
        if (!HINERParseCreationOptions(papszOptions, &sParams))
            return nullptr;
        hiner_dtype eHT;
        if (!HINERTypeFromGDAL(eType, &eHT))
        {
            CPLError(CE_Failure, CPLE_NotSupported,
                     "HINER: data type %s is not supported (Byte, Int16, UInt16, Int32, "
                     "UInt32, Float32 and Float64 are)",
                     GDALGetDataTypeName(eType));
            return nullptr;
        }
        if (nXSize < 1 || nYSize < 1 || nBands < 1 || nXSize > 65535 || nYSize > 65535 ||
            nBands > 65535)
        {
            CPLError(CE_Failure, CPLE_IllegalArg,
                     "HINER: %d x %d x %d is not a legal size (1..65535 per dimension)", nXSize,
                     nYSize, nBands);
            return nullptr;
        }
        auto poDS = std::make_unique<HINERDataset>();
        poDS->m_bWriteMode = true;
        poDS->nRasterXSize = nXSize;
        poDS->nRasterYSize = nYSize;
        poDS->eAccess = GA_Update;
        poDS->m_eWriteType = eType;
        poDS->m_osTargetFilename = pszFilename;
        poDS->m_osTempFilename = std::string(pszFilename) + ".hiner-bands";
        poDS->m_aosCreationOptions = CSLDuplicate(papszOptions);
        poDS->m_fpTemp = VSIFOpenL(poDS->m_osTempFilename.c_str(), "wb+");
        if (poDS->m_fpTemp == nullptr)
        {
            CPLError(CE_Failure, CPLE_OpenFailed, "HINER: cannot create %s",
                     poDS->m_osTempFilename.c_str());
            return nullptr;
        }
        /* the bands are written through GDAL's block cache; PAM stays out of the way */
        poDS->nPamFlags |= GPF_DISABLED;
        for (int i = 1; i <= nBands; i++)
            poDS->SetBand(i, new HINERRasterBand(poDS.get(), i, eType));
        poDS->SetDescription(pszFilename);
        return poDS.release();
    }
    catch (const std::exception &e)
    {
        CPLError(CE_Failure, CPLE_AppDefined, "HINER: %s", e.what());
        return nullptr;
    }
}

/* Create()'s dataset: trains on the buffered bands when closed. */
void HINERDataset::WriteOnClose()
{
    m_bWriteMode = true;
    /* blocks to the temporary file; a block that did not get there (disk full) would be
     * read back as zeros and trained on: no file rather than a wrong one */
    GDALPamDataset::FlushCache(true);
    hiner_params sParams;
    if (m_bTempWriteFailed)
    {
        CPLError(CE_Failure, CPLE_FileIO,
                 "HINER: %s not written: the bands could not be buffered in %s",
                 m_osTargetFilename.c_str(), m_osTempFilename.c_str());
    }
    else if (HINERParseCreationOptions(m_aosCreationOptions.List(), &sParams))
    {
        CPLDebug("HINER", "training on close: %s", m_osTargetFilename.c_str());
        /* the dataset reads back its own bands: IReadBlock in write mode */
        HINEREncode(m_osTargetFilename.c_str(), this, &sParams, nullptr, nullptr);
    }
    if (m_fpTemp)
        VSIFCloseL(m_fpTemp);
    m_fpTemp = nullptr;
    VSIUnlink(m_osTempFilename.c_str());
    m_bWriteMode = false;
}
