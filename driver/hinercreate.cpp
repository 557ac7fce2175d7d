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
#include "ogr_spatialref.h"

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
/*                          Encoding helpers                            */
/************************************************************************/

/* What the file does not store (band unit, scale and offset, category names, colour
 * table, attribute table) goes to PAM (.aux.xml) when the source has it. */
static const int HINER_PAM_FLAGS = GCIF_PROCESS_BANDS | GCIF_CATEGORYNAMES | GCIF_SCALEOFFSET |
                                   GCIF_UNITTYPE | GCIF_COLORTABLE | GCIF_RAT |
                                   GCIF_ONLY_IF_MISSING;

/* Create()'s dataset holds what was set on its bands in memory (its PAM is not saved):
 * the written file gets it in its .aux.xml, as CreateCopy gives it. */
static void HINERCloneToPam(const char *pszFilename, GDALDataset *poFrom)
{
    GDALOpenInfo oOpenInfo(pszFilename, GA_ReadOnly);
    std::unique_ptr<GDALDataset> poDS(HINERDataset::Open(&oOpenInfo));
    if (poDS)
        cpl::down_cast<HINERDataset *>(poDS.get())->CloneInfo(poFrom, HINER_PAM_FLAGS);
}

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

/* Encodes poSrcDS (a source, or the Create() dataset reading its temporary file) into
 * pszFilename: written to a temporary name beside it and renamed, removed on failure. */
static bool HINEREncode(const char *pszFilename, GDALDataset *poSrcDS, hiner_params *psParams,
                        GDALProgressFunc pfnProgress, void *pProgressData)
{
    hiner_dtype eType;
    if (!HINERCheckSource(poSrcDS, &eType))
        return false;
    HINERWavelengths oWL = HINERGetWavelengths(poSrcDS);
    HINERMetaBuilder oMeta;
    HINERCollectMetadata(poSrcDS, oWL, oMeta);

    HINERSourceReader sReader{poSrcDS, poSrcDS->GetRasterBand(1)->GetRasterDataType()};
    hiner_cube sCube{};
    sCube.width = static_cast<uint32_t>(poSrcDS->GetRasterXSize());
    sCube.height = static_cast<uint32_t>(poSrcDS->GetRasterYSize());
    sCube.bands = static_cast<uint32_t>(poSrcDS->GetRasterCount());
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
    hiner_encode_report sReport;
    int nStatus = HINER_OK;
    if (!HINERWriteStream(osTemp, sCube, oMeta.sMeta, psParams, oLog, sReport, &nStatus))
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
        HINERReportError(nStatus, oLog, "encoding");
        return false;
    }
    CPLDebug("HINER", "%s: " CPL_FRMT_GUIB " bytes, %.4f bpppb, PSNR %.2f dB (%.2f before "
             "quantization), %.1f s of training",
             pszFilename, static_cast<GUIntBig>(sReport.bits.total), sReport.bpppb,
             sReport.psnr_quantized, sReport.psnr_float, sReport.train.seconds);
    return true;
}

/* The file has one data type and one NoData for all bands: band 1's. A source whose bands
 * differ fails with bStrict, else warns. */
static bool HINERCheckBandsAlike(GDALDataset *poSrcDS, int bStrict)
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
        if (HINEREncode(m_osTargetFilename.c_str(), this, &sParams, nullptr, nullptr))
            HINERCloneToPam(m_osTargetFilename.c_str(), this);
    }
    if (m_fpTemp)
        VSIFCloseL(m_fpTemp);
    m_fpTemp = nullptr;
    VSIUnlink(m_osTempFilename.c_str());
    m_bWriteMode = false;
}
