/******************************************************************************
 *
 * Project:  HINER driver
 * Purpose:  Tiled encodes planned from a GDAL source with the create path's own
 *           functions (hinercreate.h), exported for encoders that train tiles on
 *           other machines: the same options, metadata and wavelengths, so the same
 *           bytes as CreateCopy.
 *
 ******************************************************************************/

#include "hinerplan.h"

#include <memory>
#include <string>

#include "cpl_string.h"
#include "gdal_priv.h"

#include "hinercreate.h"
#include "hinerdrivercommon.h"

struct HINERPlan
{
    std::unique_ptr<GDALDataset> poSrcDS;
    hiner_params sParams{};
    HINERSource oSrc;
    HINERLog oLog;
    hiner_tiler *psTiler = nullptr;

    ~HINERPlan()
    {
        hiner_tiler_free(psTiler);
    }
};

int HINERParseOptions(char **papszOptions, hiner_params *psParams)
{
    try
    {
        return HINERParseCreationOptions(papszOptions, psParams) ? HINER_OK
                                                                 : HINER_E_INVALID_ARG;
    }
    catch (const std::exception &e)
    {
        CPLError(CE_Failure, CPLE_AppDefined, "HINER: %s", e.what());
        return HINER_E_GENERIC;
    }
}

HINERPlan *HINERPlanOpen(const char *pszSource, char **papszOptions)
{
    try
    {
        if (GDALGetDriverCount() == 0)
            GDALAllRegister();
        auto psPlan = std::make_unique<HINERPlan>();
        if (!HINERParseCreationOptions(papszOptions, &psPlan->sParams))
            return nullptr;
        psPlan->poSrcDS.reset(GDALDataset::Open(pszSource, GDAL_OF_RASTER | GDAL_OF_VERBOSE_ERROR));
        if (!psPlan->poSrcDS)
            return nullptr;
        GDALDataset *poSrcDS = psPlan->poSrcDS.get();
        if (!HINERCheckBandsAlike(poSrcDS, FALSE) || !HINERPrepareSource(poSrcDS, psPlan->oSrc))
            return nullptr;
        psPlan->sParams.log = HINERLogFn;
        psPlan->sParams.log_user = &psPlan->oLog;
        const int nStatus =
            hiner_tiler_create(&psPlan->oSrc.sCube, &psPlan->sParams, &psPlan->psTiler);
        if (nStatus != HINER_OK)
        {
            HINERReportError(nStatus, psPlan->oLog, "planning the tiles");
            return nullptr;
        }
        return psPlan.release();
    }
    catch (const std::exception &e)
    {
        CPLError(CE_Failure, CPLE_AppDefined, "HINER: %s", e.what());
        return nullptr;
    }
}

hiner_tiler *HINERPlanTiler(HINERPlan *psPlan)
{
    return psPlan ? psPlan->psTiler : nullptr;
}

const hiner_params *HINERPlanParams(HINERPlan *psPlan)
{
    return psPlan ? &psPlan->sParams : nullptr;
}

int HINERPlanFinish(HINERPlan *psPlan)
{
    if (!psPlan)
        return HINER_E_INVALID_ARG;
    try
    {
        psPlan->oLog.osLastError.clear();
        const int nStatus = hiner_tiler_plan(psPlan->psTiler, &psPlan->oSrc.oMeta.sMeta);
        if (nStatus != HINER_OK)
        {
            if (nStatus == HINER_E_BUDGET)
                HINERAddSmallestTarget(psPlan->oSrc.sCube, psPlan->oSrc.oMeta.sMeta,
                                       psPlan->sParams, psPlan->oLog);
            HINERReportError(nStatus, psPlan->oLog, "planning the tiles");
        }
        return nStatus;
    }
    catch (const std::exception &e)
    {
        CPLError(CE_Failure, CPLE_AppDefined, "HINER: %s", e.what());
        return HINER_E_GENERIC;
    }
}

void HINERPlanWritePam(HINERPlan *psPlan, const char *pszFilename)
{
    if (!psPlan || !pszFilename)
        return;
    try
    {
        HINERCloneToPam(pszFilename, psPlan->poSrcDS.get());
    }
    catch (const std::exception &e)
    {
        CPLError(CE_Failure, CPLE_AppDefined, "HINER: %s", e.what());
    }
}

void HINERPlanClose(HINERPlan *psPlan)
{
    delete psPlan;
}
