/******************************************************************************
 *
 * Project:  HINER driver
 * Purpose:  The create path: creation options into libhiner params, the source's
 *           georeferencing and metadata for the file, the encode through a temporary
 *           file, CreateCopy, and Create (bands buffered, trained on when closed).
 *
 ******************************************************************************/

#include <algorithm>
#include <cerrno>
#include <cmath>
#include <cstring>
#include <list>
#include <string>
#include <vector>

#include "cpl_string.h"
#include "cpl_vsi.h"
#include "gdal_pam.h"
#include "gdal_priv.h"
#include "gdal_rat.h"
#include "ogr_spatialref.h"

#include "hinercreate.h"
#include "hinerdataset.h"
#include "hinerdrivercommon.h"
#include "hinermetadata.h"
#include "hineroptions.h"
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
    if (!HINERFetch(papszOptions, "EFFORT", oVal))
        return false;
    if (oVal.bSet)
        psParams->effort = static_cast<int>(oVal.nValue);
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
    /* tiles: GTiff's names; BLOCKYSIZE defaults to BLOCKXSIZE */
    if (!HINERFetch(papszOptions, "BLOCKXSIZE", oVal))
        return false;
    if (oVal.bSet)
        psParams->tile_width = psParams->tile_height = static_cast<int>(oVal.nValue);
    if (!HINERFetch(papszOptions, "BLOCKYSIZE", oVal))
        return false;
    if (oVal.bSet)
        psParams->tile_height = static_cast<int>(oVal.nValue);
    if (!HINERFetch(papszOptions, "TILE_MARGIN", oVal))
        return false;
    if (oVal.bSet)
        psParams->tile_margin = static_cast<int>(oVal.nValue);
    return true;
}

bool HINERParseCreationOptions(CSLConstList papszOptions, hiner_params *psParams)
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
/*                          Encoding helpers                            */
/************************************************************************/

/* The file's size target in bytes for a cube of nSamples values (W x H x C). */
static uint64_t HINERTargetBytes(const hiner_params &sParams, double dfSamples)
{
    if (sParams.size_bytes)
        return sParams.size_bytes;
    return static_cast<uint64_t>(std::llround(sParams.bpppb * dfSamples / 8.0));
}

/* "BPPPB=23.5 or above (SIZE=1175)": the smallest BPPPB, rounded up to 4 digits, whose
 * target holds nMinBytes; SIZE alone where that is above BPPPB's maximum. */
static std::string HINERSmallestTarget(uint64_t nMinBytes, double dfSamples)
{
    const double dfMax = HINERFindOption(HINER_CREATION_OPTIONS, "BPPPB")->dfMax;
    const double dfExact = (static_cast<double>(nMinBytes) - 0.5) * 8.0 / dfSamples;
    const double dfUnit = std::pow(10.0, std::floor(std::log10(dfExact)) - 3);
    double dfRate = std::ceil(dfExact / dfUnit) * dfUnit;
    std::string osRate = CPLSPrintf("%.4g", dfRate);
    while (std::llround(CPLAtof(osRate.c_str()) * dfSamples / 8.0) <
           static_cast<long long>(nMinBytes))
    {
        dfRate += dfUnit;
        osRate = CPLSPrintf("%.4g", dfRate);
    }
    const unsigned long long nMin = static_cast<unsigned long long>(nMinBytes);
    if (CPLAtof(osRate.c_str()) > dfMax)
        return CPLSPrintf("SIZE=%llu or above (BPPPB would be %s, above its maximum of %s)",
                          nMin, osRate.c_str(), HINERFormatDouble(dfMax).c_str());
    return CPLSPrintf("BPPPB=%s or above (SIZE=%llu)", osRate.c_str(), nMin);
}

/* The target as the user gave it: "SIZE=1000" or "BPPPB=0.2". */
static std::string HINERTargetOption(const hiner_params &sParams)
{
    if (sParams.size_bytes)
        return CPLSPrintf("SIZE=%llu", static_cast<unsigned long long>(sParams.size_bytes));
    return "BPPPB=" + HINERFormatDouble(sParams.bpppb);
}

/* What the file does not store (band unit, scale and offset, category names, colour
 * table, attribute table) goes to PAM (.aux.xml) when the source has it. */
static const int HINER_PAM_FLAGS = GCIF_PROCESS_BANDS | GCIF_CATEGORYNAMES | GCIF_SCALEOFFSET |
                                   GCIF_UNITTYPE | GCIF_COLORTABLE | GCIF_RAT |
                                   GCIF_ONLY_IF_MISSING;

/* Create()'s dataset holds what was set on its bands in memory (its PAM is not saved):
 * the written file gets it in its .aux.xml, as CreateCopy gives it. */
void HINERCloneToPam(const char *pszFilename, GDALDataset *poFrom)
{
    GDALOpenInfo oOpenInfo(pszFilename, GA_ReadOnly);
    std::unique_ptr<GDALDataset> poDS(HINERDataset::Open(&oOpenInfo));
    if (poDS)
        cpl::down_cast<HINERDataset *>(poDS.get())->CloneInfo(poFrom, HINER_PAM_FLAGS);
}

namespace
{
/* Writes the encoded stream through VSI. */
struct HINERVSIWriter
{
    VSILFILE *fp;
    int nErrno; /* of the first failed write (disk full, file too large), else 0 */
};
}  // namespace

/* The window (x0, y0, w, h) of every band, band-sequential: the library asks for the tiles
 * it trains, so a scene of any size is never read whole. */
static int HINERReadWindow(void *pUser, uint32_t x0, uint32_t y0, uint32_t w, uint32_t h,
                           void *pOut)
{
    auto psR = static_cast<HINERSourceReader *>(pUser);
    const int nBands = psR->poSrcDS->GetRasterCount();
    return psR->poSrcDS->RasterIO(GF_Read, static_cast<int>(x0), static_cast<int>(y0),
                                  static_cast<int>(w), static_cast<int>(h), pOut,
                                  static_cast<int>(w), static_cast<int>(h), psR->eDT, nBands,
                                  nullptr, 0, 0, 0, nullptr) == CE_None
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

/* The source's type in the format; false, with a CPLError, for a source the format cannot
 * hold (no band, another type, a dimension over 65535). */
static bool HINERCheckSource(GDALDataset *poSrcDS, hiner_dtype *peType)
{
    const int nBands = poSrcDS->GetRasterCount();
    if (nBands == 0)
    {
        CPLError(CE_Failure, CPLE_NotSupported, "HINER: the source has no band");
        return false;
    }
    const GDALDataType eSrcDT = poSrcDS->GetRasterBand(1)->GetRasterDataType();
    if (!HINERTypeFromGDAL(eSrcDT, peType))
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
    return true;
}

/* Encodes into osTemp; false, with a CPLError, when it cannot be created. *pnStatus is
 * the encode's status, HINER_E_IO with the reason in oLog when the stream did not reach
 * the file (disk full, file too large). */
static bool HINERWriteStream(const std::string &osTemp, const hiner_cube &sCube,
                             const hiner_meta &sMeta, const hiner_params *psParams,
                             HINERLog &oLog, hiner_encode_report &sReport, int *pnStatus)
{
    VSILFILE *fp = VSIFOpenL(osTemp.c_str(), "wb");
    if (fp == nullptr)
    {
        CPLError(CE_Failure, CPLE_OpenFailed, "HINER: cannot create %s", osTemp.c_str());
        return false;
    }
    HINERVSIWriter sWriter{fp, 0};
    int nStatus = hiner_encode(&sCube, &sMeta, psParams, HINERWrite, &sWriter, &sReport);
    errno = 0;
    if (VSIFCloseL(fp) != 0 && sWriter.nErrno == 0)
        sWriter.nErrno = errno ? errno : EIO;
    if (sWriter.nErrno != 0 && (nStatus == HINER_OK || nStatus == HINER_E_IO))
    {
        nStatus = HINER_E_IO;
        oLog.osLastError = CPLSPrintf("cannot write %s: %s", osTemp.c_str(),
                                      VSIStrerror(sWriter.nErrno));
    }
    *pnStatus = nStatus;
    return true;
}

/* After an encode refused its target: the smallest that would work, into the log's
 * message (hinercreate.h). The pixels are read again for it (hiner_min_size's exact answer: their ranges
 * and NoData mask count); nothing is added when the target was above it (the weights did
 * not fit within 5 %). */
void HINERAddSmallestTarget(const hiner_cube &sCube, const hiner_meta &sMeta,
                                   const hiner_params &sParams, HINERLog &oLog)
{
    hiner_params sQuiet = sParams;
    sQuiet.log = nullptr;
    sQuiet.progress = nullptr;
    uint64_t nMin = 0;
    const double dfSamples = static_cast<double>(sCube.width) * sCube.height * sCube.bands;
    if (hiner_min_size(&sCube, &sMeta, &sQuiet, &nMin) != HINER_OK ||
        nMin <= HINERTargetBytes(sParams, dfSamples))
        return;
    oLog.osLastError += "; the smallest target this raster and its metadata allow is " +
                        HINERSmallestTarget(nMin, dfSamples);
}

bool HINERPrepareSource(GDALDataset *poSrcDS, HINERSource &oSrc)
{
    hiner_dtype eType;
    if (!HINERCheckSource(poSrcDS, &eType))
        return false;
    oSrc.oWL = HINERGetWavelengths(poSrcDS);
    HINERCollectMetadata(poSrcDS, oSrc.oWL, oSrc.oMeta);
    oSrc.sReader = HINERSourceReader{poSrcDS, poSrcDS->GetRasterBand(1)->GetRasterDataType()};
    hiner_cube &sCube = oSrc.sCube;
    sCube = hiner_cube{};
    sCube.width = static_cast<uint32_t>(poSrcDS->GetRasterXSize());
    sCube.height = static_cast<uint32_t>(poSrcDS->GetRasterYSize());
    sCube.bands = static_cast<uint32_t>(poSrcDS->GetRasterCount());
    sCube.dtype = eType;
    sCube.read_window = HINERReadWindow;
    sCube.window_user = &oSrc.sReader;
    int bHasNoData = FALSE;
    const double dfNoData = poSrcDS->GetRasterBand(1)->GetNoDataValue(&bHasNoData);
    sCube.has_nodata = bHasNoData;
    sCube.nodata = dfNoData;
    sCube.wavelengths = oSrc.oWL.adfCenter.empty() ? nullptr : oSrc.oWL.adfCenter.data();
    return true;
}

/* Encodes poSrcDS (a source, or the Create() dataset reading its temporary file) into
 * pszFilename: written to a temporary name beside it and renamed, removed on failure. */
static bool HINEREncode(const char *pszFilename, GDALDataset *poSrcDS, hiner_params *psParams,
                        GDALProgressFunc pfnProgress, void *pProgressData)
{
    HINERSource oSrc;
    if (!HINERPrepareSource(poSrcDS, oSrc))
        return false;
    const hiner_cube &sCube = oSrc.sCube;
    const hiner_meta &sMeta = oSrc.oMeta.sMeta;

    HINERLog oLog;
    HINERProgressCtx sProgress{pfnProgress ? pfnProgress : GDALDummyProgress, pProgressData};
    psParams->progress = HINERProgress;
    psParams->progress_user = &sProgress;
    psParams->log = HINERLogFn;
    psParams->log_user = &oLog;

    const std::string osTemp = std::string(pszFilename) + ".hiner-part";
    hiner_encode_report sReport;
    int nStatus = HINER_OK;
    if (!HINERWriteStream(osTemp, sCube, sMeta, psParams, oLog, sReport, &nStatus))
        return false;
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
        if (nStatus == HINER_E_BUDGET)
            HINERAddSmallestTarget(sCube, sMeta, *psParams, oLog);
        HINERReportError(nStatus, oLog, "encoding");
        return false;
    }
    CPLDebug("HINER", "%s: " CPL_FRMT_GUIB " bytes, %.4f bpppb, PSNR %.2f dB (%.2f before "
             "quantization), %.1f s of training",
             pszFilename, static_cast<GUIntBig>(sReport.bits.total), sReport.bpppb,
             sReport.psnr_quantized, sReport.psnr_float, sReport.train.seconds);
    return true;
}

bool HINERCheckBandsAlike(GDALDataset *poSrcDS, int bStrict)
{
    const int nBands = poSrcDS->GetRasterCount();
    for (int i = 2; i <= nBands; i++)
    {
        if (poSrcDS->GetRasterBand(i)->GetRasterDataType() !=
            poSrcDS->GetRasterBand(1)->GetRasterDataType())
        {
            CPLError(bStrict ? CE_Failure : CE_Warning, CPLE_NotSupported,
                     "HINER: bands of different data types; band 1's type is used for all");
            if (bStrict)
                return false;
            break;
        }
    }
    int bHasNoData1 = FALSE;
    const double dfNoData1 =
        nBands ? poSrcDS->GetRasterBand(1)->GetNoDataValue(&bHasNoData1) : 0;
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
                return false;
            break;
        }
    }
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
        if (!HINERCheckBandsAlike(poSrcDS, bStrict))
            return nullptr;
        if (!HINEREncode(pszFilename, poSrcDS, &sParams, pfnProgress, pProgressData))
            return nullptr;
        GDALOpenInfo oOpenInfo(pszFilename, GA_ReadOnly);
        auto poDS = cpl::down_cast<HINERDataset *>(Open(&oOpenInfo));
        if (poDS)
        {
            poDS->CloneInfo(poSrcDS, HINER_PAM_FLAGS);
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

/* Create() knows the shape and type only: a target below the smallest file for them
 * (hiner_min_size without pixels or metadata) fails here, since GDAL 3.6 cannot fail the
 * close where the training happens. */
static bool HINERCheckCreateTarget(int nXSize, int nYSize, int nBands, GDALDataType eDT,
                                   hiner_dtype eType, const hiner_params &sParams)
{
    hiner_cube sCube{};
    sCube.width = static_cast<uint32_t>(nXSize);
    sCube.height = static_cast<uint32_t>(nYSize);
    sCube.bands = static_cast<uint32_t>(nBands);
    sCube.dtype = eType;
    HINERLog oLog;
    hiner_params sLogged = sParams;
    sLogged.log = HINERLogFn;
    sLogged.log_user = &oLog;
    uint64_t nMin = 0;
    const int nStatus = hiner_min_size(&sCube, nullptr, &sLogged, &nMin);
    if (nStatus != HINER_OK)
    {
        HINERReportError(nStatus, oLog, "planning the network");
        return false;
    }
    const double dfSamples = static_cast<double>(nXSize) * nYSize * nBands;
    const uint64_t nTarget = HINERTargetBytes(sParams, dfSamples);
    if (nTarget >= nMin)
        return true;
    CPLError(CE_Failure, CPLE_IllegalArg,
             "HINER: %s is a target of %llu bytes, below the smallest file for a %d x %d x %d "
             "%s raster (%llu bytes, before georeferencing and metadata, which add to it): "
             "use %s",
             HINERTargetOption(sParams).c_str(), static_cast<unsigned long long>(nTarget),
             nXSize, nYSize, nBands, GDALGetDataTypeName(eDT),
             static_cast<unsigned long long>(nMin), HINERSmallestTarget(nMin, dfSamples).c_str());
    return false;
}

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
        if (!HINERCheckCreateTarget(nXSize, nYSize, nBands, eType, eHT, sParams))
            return nullptr;
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

/************************************************************************/
/*                   Create()'s dataset: encoding it                    */
/************************************************************************/

/* One GDAL object's metadata, every domain, into the state text. */
static void HINERAddMetadataState(GDALMajorObject *poObj, std::string &os)
{
    CPLStringList aosDomains(poObj->GetMetadataDomainList());
    aosDomains.AddString("");
    for (int i = 0; i < aosDomains.size(); i++)
    {
        os += std::string("[") + aosDomains[i] + "]";
        for (CSLConstList papszIter = poObj->GetMetadata(aosDomains[i]); papszIter && *papszIter;
             ++papszIter)
            os += std::string(*papszIter) + "\n";
    }
}

static void HINERAddSRSState(const OGRSpatialReference *poSRS, std::string &os)
{
    char *pszWKT = nullptr;
    if (poSRS && poSRS->exportToWkt(&pszWKT) == OGRERR_NONE && pszWKT)
        os += pszWKT;
    CPLFree(pszWKT);
    os += ";";
}

/* What a Create() dataset holds besides its pixels, as text: georeferencing, metadata and
 * every band property the file or its .aux.xml keeps. An encode is current while this is
 * unchanged and no block has been written since. */
static std::string HINERWriteState(GDALDataset *poDS)
{
    std::string os;
    double adfGT[6];
    if (poDS->GetGeoTransform(adfGT) == CE_None)
        for (double dfV : adfGT)
            os += CPLSPrintf("%.17g,", dfV);
    HINERAddSRSState(poDS->GetSpatialRef(), os);
    const GDAL_GCP *pasGCPs = poDS->GetGCPs();
    for (int i = 0; i < poDS->GetGCPCount(); i++)
        os += std::string(pasGCPs[i].pszId) + "|" + pasGCPs[i].pszInfo +
              CPLSPrintf("|%.17g|%.17g|%.17g|%.17g|%.17g;", pasGCPs[i].dfGCPPixel,
                         pasGCPs[i].dfGCPLine, pasGCPs[i].dfGCPX, pasGCPs[i].dfGCPY,
                         pasGCPs[i].dfGCPZ);
    HINERAddSRSState(poDS->GetGCPSpatialRef(), os);
    HINERAddMetadataState(poDS, os);
    for (int i = 1; i <= poDS->GetRasterCount(); i++)
    {
        GDALRasterBand *poBand = poDS->GetRasterBand(i);
        int bHasNoData = FALSE;
        const double dfNoData = poBand->GetNoDataValue(&bHasNoData);
        os += CPLSPrintf("<band %d %d %.17g %d %.17g %.17g>", i, bHasNoData,
                         bHasNoData ? dfNoData : 0.0,
                         static_cast<int>(poBand->GetColorInterpretation()), poBand->GetScale(),
                         poBand->GetOffset());
        os += std::string(poBand->GetDescription()) + "|" + poBand->GetUnitType() + "|";
        for (CSLConstList papszIter = poBand->GetCategoryNames(); papszIter && *papszIter;
             ++papszIter)
            os += std::string(*papszIter) + "\n";
        if (GDALColorTable *poCT = poBand->GetColorTable())
        {
            for (int j = 0; j < poCT->GetColorEntryCount(); j++)
            {
                const GDALColorEntry *psE = poCT->GetColorEntry(j);
                os += CPLSPrintf("%d,%d,%d,%d;", psE->c1, psE->c2, psE->c3, psE->c4);
            }
        }
        if (GDALRasterAttributeTable *poRAT = poBand->GetDefaultRAT())
        {
            CPLXMLNode *psXML = poRAT->Serialize();
            char *pszXML = psXML ? CPLSerializeXMLTree(psXML) : nullptr;
            os += pszXML ? pszXML : "";
            CPLFree(pszXML);
            CPLDestroyXMLNode(psXML);
        }
        HINERAddMetadataState(poBand, os);
    }
    return os;
}

void HINERDataset::NoteBlockWritten(int nBand, int nBlockYOff)
{
    m_bBlocksChanged = true;
    int nBlockXSize = 0, nBlockYSize = 0;
    GetRasterBand(1)->GetBlockSize(&nBlockXSize, &nBlockYSize);
    const size_t nPerBand = static_cast<size_t>((nRasterYSize + nBlockYSize - 1) / nBlockYSize);
    if (m_abBlockWritten.empty())
        m_abBlockWritten.resize(nPerBand * GetRasterCount(), false);
    const size_t i = static_cast<size_t>(nBand - 1) * nPerBand + nBlockYOff;
    if (!m_abBlockWritten[i])
    {
        m_abBlockWritten[i] = true;
        m_nBlocksWritten++;
    }
}

/* Encodes the Create() dataset into its file unless the last encode saw the same blocks
 * and state; at close, a failed encode that nothing has changed since reports again. A
 * file an earlier encode wrote is removed when the new one fails: no file rather than
 * one that no longer holds what was written. */
void HINERDataset::EncodeIfChanged(bool bAtClose)
{
    std::string osState = HINERWriteState(this);
    const char *pszTarget = m_osTargetFilename.c_str();
    if (m_bEncoded && !m_bBlocksChanged && osState == m_osEncodedState)
    {
        if (bAtClose && !m_osEncodeError.empty())
            CPLError(CE_Failure, CPLE_AppDefined,
                     "HINER: %s not written: its encode when flushed failed and nothing has "
                     "changed since",
                     pszTarget);
        return;
    }
    const bool bReplacing = m_bEncoded && m_osEncodeError.empty();
    if (bReplacing)
        VSIUnlink(CPLSPrintf("%s.aux.xml", pszTarget)); /* cloned again below */
    m_bEncoded = true;
    m_bBlocksChanged = false;
    m_osEncodedState = std::move(osState);
    m_osEncodeError.clear();
    hiner_params sParams;
    bool bOK = HINERParseCreationOptions(m_aosCreationOptions.List(), &sParams);
    if (bOK)
    {
        CPLDebug("HINER", "training on %s: %s", bAtClose ? "close" : "flush", pszTarget);
        /* the dataset reads back its own bands: IReadBlock in write mode */
        bOK = HINEREncode(pszTarget, this, &sParams, nullptr, nullptr);
    }
    if (bOK)
    {
        HINERCloneToPam(pszTarget, this);
        return;
    }
    m_osEncodeError = CPLGetLastErrorMsg();
    if (bReplacing)
        VSIUnlink(pszTarget);
}

/* A Create() dataset whose every block has been written trains when flushed: GDAL 3.6
 * cannot fail a close, but a flush can report (gdalwarp checks the error of its final
 * flush; osgeo.gdal's ds.FlushCache() raises with exceptions on). */
void HINERDataset::FlushCache(bool bAtClosing)
{
    GDALPamDataset::FlushCache(bAtClosing);
    if (m_bWriteMode && !bAtClosing && !m_bTempWriteFailed && !m_abBlockWritten.empty() &&
        m_nBlocksWritten == m_abBlockWritten.size())
        EncodeIfChanged(false);
}

/* Create()'s dataset when closed: trains on the buffered bands unless a flush already did
 * with what it holds now. */
void HINERDataset::WriteOnClose()
{
    /* blocks to the temporary file; a block that did not get there (disk full) would be
     * read back as zeros and trained on: no file rather than a wrong one */
    GDALPamDataset::FlushCache(true);
    if (m_bTempWriteFailed)
    {
        CPLError(CE_Failure, CPLE_FileIO,
                 "HINER: %s not written: the bands could not be buffered in %s",
                 m_osTargetFilename.c_str(), m_osTempFilename.c_str());
        if (m_bEncoded && m_osEncodeError.empty()) /* a flush wrote it before */
        {
            VSIUnlink(m_osTargetFilename.c_str());
            VSIUnlink(CPLSPrintf("%s.aux.xml", m_osTargetFilename.c_str()));
        }
    }
    else
    {
        EncodeIfChanged(true);
    }
    if (m_fpTemp)
        VSIFCloseL(m_fpTemp);
    m_fpTemp = nullptr;
    VSIUnlink(m_osTempFilename.c_str());
    m_bWriteMode = false;
}
