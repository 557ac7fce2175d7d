/******************************************************************************
 *
 * Project:  HINER driver
 * Purpose:  The read path: HINERDataset and HINERRasterBand over a .hiner file, bands
 *           decoded on demand (and at other wavelengths through the stored spectral
 *           encoder) into a small cache; Create()'s dataset buffers written blocks.
 *
 ******************************************************************************/

#include <algorithm>
#include <cmath>
#include <cstring>
#include <string>
#include <vector>

#include "cpl_string.h"
#include "cpl_vsi.h"
#include "gdal_pam.h"
#include "gdal_priv.h"
#include "ogr_spatialref.h"

#include "hinerdataset.h"
#include "hinerdrivercommon.h"
#include "hinerdrivercore.h"
#include "hineroptions.h"
#include "hinerwavelengths.h"

/************************************************************************/
/*                           HINERRasterBand                            */
/************************************************************************/

HINERRasterBand::HINERRasterBand(HINERDataset *poDSIn, int nBandIn, GDALDataType eDT)
{
    poDS = poDSIn;
    nBand = nBandIn;
    eDataType = eDT;
    if (poDSIn->m_nTileXSize > 0)
    {
        /* a tiled file: a block is a tile of a band, decoded on its own */
        nBlockXSize = poDSIn->m_nTileXSize;
        nBlockYSize = poDSIn->m_nTileYSize;
        return;
    }
    nBlockXSize = poDSIn->GetRasterXSize();
    /* strips of about 1 MB: the dataset caches whole decoded bands, blocks are views */
    const int nRowBytes = std::max(1, nBlockXSize * GDALGetDataTypeSizeBytes(eDT));
    nBlockYSize = std::max(1, std::min(poDSIn->GetRasterYSize(), (1 << 20) / nRowBytes));
}

/* A tiled file's block: tile (nBlockXOff, nBlockYOff) of the band; a ragged tile is
 * decoded into the dataset's scratch buffer and copied, the rest of the block zeroed. */
CPLErr HINERRasterBand::ReadTile(int nBlockXOff, int nBlockYOff, void *pImage)
{
    auto poGDS = cpl::down_cast<HINERDataset *>(poDS);
    const size_t nDTSize = GDALGetDataTypeSizeBytes(eDataType);
    const int nW = std::min(nBlockXSize, nRasterXSize - nBlockXOff * nBlockXSize);
    const int nH = std::min(nBlockYSize, nRasterYSize - nBlockYOff * nBlockYSize);
    const bool bRagged = nW < nBlockXSize || nH < nBlockYSize;
    if (bRagged)
        poGDS->m_abyTile.resize(static_cast<size_t>(nW) * nH * nDTSize);
    const double dfWhere = poGDS->m_bInterpolated ? poGDS->m_adfBandWL[nBand - 1] : nBand - 1;
    const int nStatus = hiner_model_decode_tile_as(
        poGDS->m_poModel.get(), static_cast<uint32_t>(nBlockXOff),
        static_cast<uint32_t>(nBlockYOff), poGDS->m_bInterpolated ? 1 : 0, dfWhere,
        poGDS->m_eFileType, bRagged ? poGDS->m_abyTile.data() : pImage);
    if (nStatus != HINER_OK)
    {
        CPLError(CE_Failure, HINERErrorNum(nStatus),
                 "HINER: decoding tile %d,%d of band %d failed: %s", nBlockXOff, nBlockYOff,
                 nBand, hiner_status_str(nStatus));
        return CE_Failure;
    }
    if (bRagged)
    {
        GByte *pabyOut = static_cast<GByte *>(pImage);
        memset(pabyOut, 0, static_cast<size_t>(nBlockXSize) * nBlockYSize * nDTSize);
        for (int y = 0; y < nH; y++)
            memcpy(pabyOut + static_cast<size_t>(y) * nBlockXSize * nDTSize,
                   poGDS->m_abyTile.data() + static_cast<size_t>(y) * nW * nDTSize, nW * nDTSize);
    }
    return CE_None;
}

CPLErr HINERRasterBand::IReadBlock(int nBlockXOff, int nBlockYOff, void *pImage)
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
    if (poGDS->m_nTileXSize > 0)
        return ReadTile(nBlockXOff, nBlockYOff, pImage);
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
    poGDS->NoteBlockWritten(nBand, nBlockYOff);
    return CE_None;
}

double HINERRasterBand::GetNoDataValue(int *pbSuccess)
{
    /* a NoData value in the .aux.xml overrides the file's, as with GTiff */
    int bPam = FALSE;
    const double dfPam = GDALPamRasterBand::GetNoDataValue(&bPam);
    if (pbSuccess)
        *pbSuccess = bPam || m_bHasNoData;
    return bPam || !m_bHasNoData ? dfPam : m_dfNoData;
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
    m_poModel.reset(); /* before the file it reads from */
    if (m_oSource.fp)
        VSIFCloseL(m_oSource.fp);
    if (!m_asGCPs.empty())
        GDALDeinitGCPs(static_cast<int>(m_asGCPs.size()), m_asGCPs.data());
}

/* Georeferencing in the .aux.xml (set on a read-only dataset, or by gdal_edit.py -ro)
 * overrides the file's, as GTiff's default GDAL_GEOREF_SOURCES=PAM,INTERNAL,... does. */
CPLErr HINERDataset::GetGeoTransform(double *padfTransform)
{
    if (GDALPamDataset::GetGeoTransform(padfTransform) == CE_None)
        return CE_None;
    if (!m_bGeoTransformValid)
        return CE_Failure;
    memcpy(padfTransform, m_adfGeoTransform, sizeof(m_adfGeoTransform));
    return CE_None;
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
    if (const OGRSpatialReference *poPamSRS = GDALPamDataset::GetSpatialRef())
        return poPamSRS;
    return m_oSRS.IsEmpty() ? nullptr : &m_oSRS;
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
    const int nPamGCPs = GDALPamDataset::GetGCPCount();
    return nPamGCPs > 0 ? nPamGCPs : static_cast<int>(m_asGCPs.size());
}

const GDAL_GCP *HINERDataset::GetGCPs()
{
    if (GDALPamDataset::GetGCPCount() > 0)
        return GDALPamDataset::GetGCPs();
    return m_asGCPs.empty() ? nullptr : m_asGCPs.data();
}

const OGRSpatialReference *HINERDataset::GetGCPSpatialRef() const
{
    if (const_cast<HINERDataset *>(this)->GDALPamDataset::GetGCPCount() > 0)
        return GDALPamDataset::GetGCPSpatialRef();
    return m_asGCPs.empty() || m_oGCPSRS.IsEmpty() ? nullptr : &m_oGCPSRS;
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

/* One read of the model's file. Over a network file system each read gets a handle of its
 * own: /vsicurl/ doubles the download of a read that continues the handle's last one, so
 * reading neighbouring tiles of a window through one handle fetched the tiles after them
 * too. Downloaded blocks are cached per file system, not per handle. */
static int HINERVSIReadAt(void *pUser, uint64_t nOffset, void *pBuf, size_t nBytes)
{
    const HINERDataset::Source *psSrc = static_cast<const HINERDataset::Source *>(pUser);
    VSILFILE *fp = psSrc->fp;
    VSILFILE *fpOwn = nullptr;
    if (psSrc->bRemote && (fpOwn = VSIFOpenL(psSrc->osName, "rb")) != nullptr)
        fp = fpOwn;
    const int nRet = VSIFSeekL(fp, static_cast<vsi_l_offset>(nOffset), SEEK_SET) != 0 ||
                             VSIFReadL(pBuf, 1, nBytes, fp) != nBytes
                         ? 1
                         : 0;
    if (fpOwn)
        VSIFCloseL(fpOwn);
    return nRet;
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

/* The model of an identified file, read through VSI: a tiled file lazily (its head now, a
 * tile with one range read when a block needs it), so the dataset keeps the file open;
 * nullptr, with a CPLError, on failure. */
static HINERModelPtr HINEROpenModel(GDALOpenInfo *poOpenInfo, HINERDataset::Source *psSrc)
{
    VSILFILE *fp = psSrc->fp;
    if (VSIFSeekL(fp, 0, SEEK_END) != 0)
        return nullptr;
    const vsi_l_offset nSize = VSIFTellL(fp);
    hiner_reader sReader;
    sReader.size = static_cast<uint64_t>(nSize);
    sReader.read_at = HINERVSIReadAt;
    sReader.user = psSrc;
    hiner_model *psModel = nullptr;
    const int nStatus = hiner_open_lazy(&sReader, &psModel);
    if (nStatus != HINER_OK)
    {
        CPLError(CE_Failure, HINERErrorNum(nStatus), "HINER: cannot open %s: %s",
                 poOpenInfo->pszFilename, hiner_status_str(nStatus));
        return nullptr;
    }
    return HINERModelPtr(psModel);
}

/* A CRS the file stores as WKT or "EPSG:n"; empty when it does not parse. */
static void HINERSetCRS(OGRSpatialReference &oSRS, const char *pszCRS)
{
    oSRS.SetAxisMappingStrategy(OAMS_TRADITIONAL_GIS_ORDER);
    if (oSRS.SetFromUserInput(pszCRS, OGRSpatialReference::SET_FROM_USER_INPUT_LIMITATIONS) !=
        OGRERR_NONE)
        oSRS.Clear();
}

void HINERDataset::SetGeoreferencing(const hiner_meta &sMeta)
{
    if (sMeta.has_geotransform)
    {
        memcpy(m_adfGeoTransform, sMeta.geotransform, sizeof(m_adfGeoTransform));
        m_bGeoTransformValid = true;
    }
    if (sMeta.crs_wkt && sMeta.crs_wkt[0])
        HINERSetCRS(m_oSRS, sMeta.crs_wkt);
    if (sMeta.n_gcps == 0)
        return;
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
    m_asGCPs.assign(pasDup, pasDup + asG.size());
    CPLFree(pasDup);
    if (sMeta.gcp_crs_wkt && sMeta.gcp_crs_wkt[0])
        HINERSetCRS(m_oGCPSRS, sMeta.gcp_crs_wkt);
}

void HINERDataset::SetDatasetMetadata(const hiner_info &sInfo, const hiner_meta &sMeta)
{
    for (uint32_t i = 0; i < sMeta.n_items; i++)
        if (sMeta.items[i].band < 0)
            HINERSetItem(this, sMeta.items[i].key, sMeta.items[i].value, sMeta.items[i].domain);
    /* a name outside GDAL's usual list breaks clients that map it (rasterio): as WEBP, only
     * the reversibility */
    HINERSetItem(this, "COMPRESSION_REVERSIBILITY", "LOSSY", "IMAGE_STRUCTURE");
    HINERSetItem(this, "INTERLEAVE", "BAND", "IMAGE_STRUCTURE");
    if (!sInfo.has_encoder)
        HINERSetItem(this, "WAVELENGTH_INTERPOLATION", "UNAVAILABLE", "HINER");
    else
        HINERSetItem(this, "WAVELENGTH_INTERPOLATION", "AVAILABLE", "HINER");
    CPLString osRate;
    osRate.Printf("%.4f", sInfo.bpppb);
    HINERSetItem(this, "BPPPB", osRate, "HINER");
    osRate.Printf("%u", sInfo.bands);
    HINERSetItem(this, "STORED_BANDS", osRate, "HINER");
}

HINERRasterBand *HINERDataset::AddBand(const hiner_info &sInfo, GDALDataType eDT)
{
    const int nNewBand = GetRasterCount() + 1;
    auto poBand = new HINERRasterBand(this, nNewBand, eDT);
    SetBand(nNewBand, poBand);
    poBand->m_bHasNoData = sInfo.has_nodata != 0;
    poBand->m_dfNoData = sInfo.nodata;
    return poBand;
}

void HINERDataset::CreateStoredBands(const hiner_info &sInfo, const hiner_meta &sMeta,
                                     GDALDataType eDT)
{
    const double *padfWL = hiner_model_wavelengths(m_poModel.get());
    const int nBands = static_cast<int>(sInfo.bands);
    for (int i = 0; i < nBands; i++)
    {
        HINERRasterBand *poBand = AddBand(sInfo, eDT);
        m_adfBandWL.push_back(padfWL ? padfWL[i] : NAN);
        if (sMeta.band_descriptions && sMeta.band_descriptions[i])
            poBand->GDALMajorObject::SetDescription(sMeta.band_descriptions[i]);
        if (sMeta.color_interp)
            poBand->m_eColorInterp = static_cast<GDALColorInterp>(sMeta.color_interp[i]);
        if (padfWL)
            HINERSetWavelengthItems(poBand, padfWL[i], sMeta.fwhm ? sMeta.fwhm[i] : NAN,
                                    sMeta.wavelength_units);
    }
    /* stored band metadata (the wavelength items came from WAVE above; stored ones win) */
    for (uint32_t i = 0; i < sMeta.n_items; i++)
    {
        const hiner_meta_item &sItem = sMeta.items[i];
        if (sItem.band >= 0 && sItem.band < nBands)
            HINERSetItem(GetRasterBand(sItem.band + 1), sItem.key, sItem.value, sItem.domain);
    }
}

void HINERDataset::CreateInterpolatedBands(const hiner_info &sInfo, const hiner_meta &sMeta,
                                           const std::vector<double> &adfRequested,
                                           GDALDataType eDT)
{
    const double *padfWL = hiner_model_wavelengths(m_poModel.get());
    const char *pszUnits = sMeta.wavelength_units;
    m_bInterpolated = true;
    for (double dfRequested : adfRequested)
    {
        HINERRasterBand *poBand = AddBand(sInfo, eDT);
        /* positions without wavelengths are 1-based band numbers */
        const double dfAt = padfWL ? dfRequested : dfRequested - 1.0;
        m_adfBandWL.push_back(dfAt);
        CPLString osDesc;
        if (padfWL)
        {
            const double dfFWHM =
                sMeta.fwhm ? HINERInterpolateFWHM(padfWL, sMeta.fwhm, sInfo.bands, dfAt) : NAN;
            osDesc.Printf("%s %s (interpolated)", HINERFormatDouble(dfRequested).c_str(),
                          pszUnits && pszUnits[0] ? pszUnits : "");
            HINERSetWavelengthItems(poBand, dfRequested, dfFWHM, pszUnits);
        }
        else
        {
            osDesc.Printf("band position %s (interpolated)",
                          HINERFormatDouble(dfRequested).c_str());
        }
        poBand->GDALMajorObject::SetDescription(osDesc);
    }
}

/* CACHE_MB (or HINER_CACHE_MB) and NUM_THREADS (or GDAL_NUM_THREADS), which only tune. */
void HINERDataset::ApplyTuningOptions(GDALOpenInfo *poOpenInfo, GDALDataType eDT)
{
    HINEROptionValue oVal;
    HINERTuningOpenOption(poOpenInfo->papszOpenOptions, "CACHE_MB", "HINER_CACHE_MB", oVal);
    const double dfCacheMB = oVal.dfValue;
    /* a tiled file: GDAL's block cache holds decoded tiles, the library the tiles' networks */
    hiner_model_set_tile_cache(m_poModel.get(),
                               static_cast<size_t>(std::max(1.0, dfCacheMB) * 1024 * 1024));
    const double dfBandMB = static_cast<double>(nRasterXSize) * nRasterYSize *
                            GDALGetDataTypeSizeBytes(eDT) / (1024.0 * 1024.0);
    m_nCacheBands =
        static_cast<size_t>(std::max(1.0, std::min(dfCacheMB / std::max(dfBandMB, 1e-9), 1e6)));

    HINERTuningOpenOption(poOpenInfo->papszOpenOptions, "NUM_THREADS", "GDAL_NUM_THREADS", oVal);
    const int nThreads = oVal.bWord ? CPLGetNumCPUs() : static_cast<int>(oVal.nValue);
    hiner_model_set_threads(m_poModel.get(), nThreads);
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
    /* the file stays open with the dataset: a tiled file's tiles are read when needed */
    auto poDS = std::make_unique<HINERDataset>();
    poDS->m_oSource.fp = poOpenInfo->fpL;
    poOpenInfo->fpL = nullptr;
    poDS->m_oSource.osName = poOpenInfo->pszFilename;
    poDS->m_oSource.bRemote = !VSIIsLocal(poOpenInfo->pszFilename);
    HINERModelPtr poModel = HINEROpenModel(poOpenInfo, &poDS->m_oSource);
    if (!poModel)
        return nullptr;
    hiner_info sInfo;
    hiner_meta sMeta;
    hiner_model_info(poModel.get(), &sInfo);
    hiner_model_meta(poModel.get(), &sMeta);
    std::vector<double> adfRequested;
    if (!HINERRequestedWavelengths(poOpenInfo, sInfo, sMeta, adfRequested))
        return nullptr;

    poDS->nRasterXSize = static_cast<int>(sInfo.width);
    if (sInfo.tiles_x * static_cast<uint64_t>(sInfo.tiles_y) > 1)
    {
        poDS->m_nTileXSize = static_cast<int>(sInfo.tile_width);
        poDS->m_nTileYSize = static_cast<int>(sInfo.tile_height);
    }
    poDS->nRasterYSize = static_cast<int>(sInfo.height);
    poDS->m_eFileType = sInfo.dtype;
    poDS->m_poModel = std::move(poModel);
    const GDALDataType eDT = HINERTypeToGDAL(sInfo.dtype);
    poDS->SetGeoreferencing(sMeta);
    poDS->SetDatasetMetadata(sInfo, sMeta);
    /* bands: the stored ones, or the requested wavelengths */
    if (adfRequested.empty())
        poDS->CreateStoredBands(sInfo, sMeta, eDT);
    else
        poDS->CreateInterpolatedBands(sInfo, sMeta, adfRequested, eDT);
    poDS->ApplyTuningOptions(poOpenInfo, eDT);

    poDS->SetDescription(poOpenInfo->pszFilename);
    if (poDS->m_bInterpolated)
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
