/******************************************************************************
 *
 * Project:  HINER driver
 * Purpose:  Band wavelengths in and out of GDAL's conventions, and the wavelengths a
 *           reader asks to decode at.
 *
 ******************************************************************************/

#include "hinerwavelengths.h"

#include <cmath>

#include "cpl_string.h"

#include "hinerdrivercommon.h"
#include "hineroptions.h"

/************************************************************************/
/*                     Wavelengths of a source                          */
/************************************************************************/

/* Parses an ENVI list "{ 400.1, 410.2, ... }" into values. */
static std::vector<double> HINERParseENVIList(const char *pszList)
{
    std::vector<double> adf;
    if (pszList == nullptr)
        return adf;
    CPLStringList aosTok(CSLTokenizeString2(pszList, "{}, ", 0));
    for (int i = 0; i < aosTok.size(); i++)
        adf.push_back(CPLAtof(aosTok[i]));
    return adf;
}

/* 1. band items wavelength / fwhm / wavelength_units, on every band */
static bool HINERWavelengthsFromBandItems(GDALDataset *poDS, HINERWavelengths &oWL)
{
    const int nBands = poDS->GetRasterCount();
    bool bAllFWHM = true;
    for (int i = 1; i <= nBands; i++)
    {
        GDALRasterBand *poBand = poDS->GetRasterBand(i);
        const char *pszWL = poBand->GetMetadataItem("wavelength");
        const char *pszFWHM = poBand->GetMetadataItem("fwhm");
        if (pszWL == nullptr)
            return false;
        oWL.adfCenter.push_back(CPLAtof(pszWL));
        if (pszFWHM)
            oWL.adfFWHM.push_back(CPLAtof(pszFWHM));
        else
            bAllFWHM = false;
        if (i == 1)
        {
            const char *pszU = poBand->GetMetadataItem("wavelength_units");
            if (pszU == nullptr)
                pszU = poDS->GetMetadataItem("wavelength_units");
            oWL.osUnits = pszU ? pszU : "";
        }
    }
    if (nBands == 0)
        return false;
    oWL.bFromBandItems = true;
    if (!bAllFWHM)
        oWL.adfFWHM.clear();
    return true;
}

/* 2. ENVI domain lists with one value per band */
static bool HINERWavelengthsFromENVI(GDALDataset *poDS, HINERWavelengths &oWL)
{
    const int nBands = poDS->GetRasterCount();
    std::vector<double> adf = HINERParseENVIList(poDS->GetMetadataItem("wavelength", "ENVI"));
    if (static_cast<int>(adf.size()) != nBands || nBands == 0)
        return false;
    oWL.adfCenter = adf;
    std::vector<double> adfF = HINERParseENVIList(poDS->GetMetadataItem("fwhm", "ENVI"));
    if (static_cast<int>(adfF.size()) == nBands)
        oWL.adfFWHM = adfF;
    const char *pszU = poDS->GetMetadataItem("wavelength_units", "ENVI");
    oWL.osUnits = pszU ? pszU : "";
    return true;
}

/* 3. IMAGERY CENTRAL_WAVELENGTH_UM (and FWHM_UM) on every band */
static HINERWavelengths HINERWavelengthsFromImagery(GDALDataset *poDS)
{
    HINERWavelengths oWL;
    const int nBands = poDS->GetRasterCount();
    for (int i = 1; i <= nBands; i++)
    {
        GDALRasterBand *poBand = poDS->GetRasterBand(i);
        const char *pszC = poBand->GetMetadataItem("CENTRAL_WAVELENGTH_UM", "IMAGERY");
        if (pszC == nullptr)
            return HINERWavelengths();
        oWL.adfCenter.push_back(CPLAtof(pszC));
        const char *pszF = poBand->GetMetadataItem("FWHM_UM", "IMAGERY");
        if (pszF)
            oWL.adfFWHM.push_back(CPLAtof(pszF));
    }
    if (static_cast<int>(oWL.adfFWHM.size()) != nBands)
        oWL.adfFWHM.clear();
    oWL.osUnits = "Micrometers";
    return oWL;
}

HINERWavelengths HINERGetWavelengths(GDALDataset *poDS)
{
    HINERWavelengths oWL;
    if (HINERWavelengthsFromBandItems(poDS, oWL))
        return oWL;
    oWL = HINERWavelengths();
    if (HINERWavelengthsFromENVI(poDS, oWL))
        return oWL;
    return HINERWavelengthsFromImagery(poDS);
}

/************************************************************************/
/*                     Wavelength items of a band                       */
/************************************************************************/

double HINERMicronsPerUnit(const char *pszUnits, double dfTypical)
{
    if (pszUnits == nullptr || pszUnits[0] == '\0')
        return dfTypical > 100 ? 1e-3 : 1.0;
    if (STARTS_WITH_CI(pszUnits, "nanomet") || EQUAL(pszUnits, "nm"))
        return 1e-3;
    if (STARTS_WITH_CI(pszUnits, "micromet") || EQUAL(pszUnits, "um") ||
        EQUAL(pszUnits, "micron") || EQUAL(pszUnits, "microns") || EQUAL(pszUnits, "µm"))
        return 1.0;
    if (STARTS_WITH_CI(pszUnits, "millimet") || EQUAL(pszUnits, "mm"))
        return 1e3;
    return 0.0;
}

void HINERSetWavelengthItems(GDALRasterBand *poBand, double dfWL, double dfFWHM,
                             const char *pszUnits)
{
    HINERSetItem(poBand, "wavelength", HINERFormatDouble(dfWL).c_str());
    if (pszUnits && pszUnits[0])
        HINERSetItem(poBand, "wavelength_units", pszUnits);
    if (std::isfinite(dfFWHM))
        HINERSetItem(poBand, "fwhm", HINERFormatDouble(dfFWHM).c_str());
    const double dfUM = HINERMicronsPerUnit(pszUnits, dfWL);
    if (dfUM > 0)
    {
        HINERSetItem(poBand, "CENTRAL_WAVELENGTH_UM", HINERFormatDouble(dfWL * dfUM).c_str(),
                     "IMAGERY");
        if (std::isfinite(dfFWHM))
            HINERSetItem(poBand, "FWHM_UM", HINERFormatDouble(dfFWHM * dfUM).c_str(),
                         "IMAGERY");
    }
}

double HINERInterpolateFWHM(const double *padfWL, const double *padfFWHM, uint32_t nBands,
                            double dfAt)
{
    int iLo = -1, iHi = -1;
    for (uint32_t b = 0; b < nBands; b++)
    {
        if (padfWL[b] <= dfAt && (iLo < 0 || padfWL[b] > padfWL[iLo]))
            iLo = static_cast<int>(b);
        if (padfWL[b] >= dfAt && (iHi < 0 || padfWL[b] < padfWL[iHi]))
            iHi = static_cast<int>(b);
    }
    if (iLo < 0)
        iLo = iHi;
    if (iHi < 0)
        iHi = iLo;
    const double dfT = padfWL[iHi] > padfWL[iLo]
                           ? (dfAt - padfWL[iLo]) / (padfWL[iHi] - padfWL[iLo])
                           : 0.0;
    return padfFWHM[iLo] + dfT * (padfFWHM[iHi] - padfFWHM[iLo]);
}

/************************************************************************/
/*                 Wavelengths requested at open                        */
/************************************************************************/

/* WAVELENGTHS=a,b,c: every item a finite number, at least one. */
static bool HINERParseWavelengthList(const char *pszList, std::vector<double> &adfOut)
{
    CPLStringList aosTok(CSLTokenizeString2(pszList, ", ", 0));
    for (int i = 0; i < aosTok.size(); i++)
    {
        char *pszEnd = nullptr;
        const double dfVal = CPLStrtod(aosTok[i], &pszEnd);
        if (pszEnd == aosTok[i] || *pszEnd != '\0' || !std::isfinite(dfVal))
        {
            CPLError(CE_Failure, CPLE_IllegalArg, "HINER: WAVELENGTHS=%s: '%s' is not a number",
                     pszList, aosTok[i]);
            return false;
        }
        adfOut.push_back(dfVal);
    }
    if (adfOut.empty())
    {
        CPLError(CE_Failure, CPLE_IllegalArg, "HINER: WAVELENGTHS=%s lists no value", pszList);
        return false;
    }
    return true;
}

/* WAVELENGTH_STEP=s: the multiples of s within [dfLo, dfHi]. */
static bool HINERWavelengthGrid(const char *pszStep, double dfLo, double dfHi,
                                const char *pszUnits, std::vector<double> &adfOut)
{
    const HINEROption *psOpt = HINERFindOption(HINER_OPEN_OPTIONS, "WAVELENGTH_STEP");
    HINEROptionValue oVal;
    if (!HINERParseOptionValue(*psOpt, pszStep, oVal))
    {
        CPLError(CE_Failure, CPLE_IllegalArg,
                 "HINER: WAVELENGTH_STEP=%s is not a legal value: expected %s", pszStep,
                 HINEROptionExpected(*psOpt).c_str());
        return false;
    }
    const double dfStep = oVal.dfValue;
    const double dfFirst = std::ceil(dfLo / dfStep - 1e-9) * dfStep;
    const double dfCount = std::floor((dfHi - dfFirst) / dfStep + 1e-9) + 1;
    if (dfCount < 1 || dfCount > 100000)
    {
        CPLError(CE_Failure, CPLE_IllegalArg,
                 "HINER: WAVELENGTH_STEP=%s gives %.0f bands over %g-%g %s", pszStep, dfCount,
                 dfLo, dfHi, pszUnits);
        return false;
    }
    for (int i = 0; i < static_cast<int>(dfCount); i++)
        adfOut.push_back(dfFirst + i * dfStep);
    return true;
}

bool HINERRequestedWavelengths(GDALOpenInfo *poOpenInfo, const hiner_info &sInfo,
                               const hiner_meta &sMeta, std::vector<double> &adfOut)
{
    const char *pszList = CSLFetchNameValue(poOpenInfo->papszOpenOptions, "WAVELENGTHS");
    const char *pszStep = CSLFetchNameValue(poOpenInfo->papszOpenOptions, "WAVELENGTH_STEP");
    if (pszList == nullptr && pszStep == nullptr)
        return true;
    if (pszList && pszStep)
    {
        CPLError(CE_Failure, CPLE_IllegalArg,
                 "HINER: WAVELENGTHS and WAVELENGTH_STEP are exclusive: give one");
        return false;
    }
    const char *pszUnits = sMeta.wavelength_units && sMeta.wavelength_units[0]
                               ? sMeta.wavelength_units
                               : (sInfo.has_wavelengths ? "(file units)" : "band numbers");
    if (!sInfo.has_encoder)
    {
        CPLError(CE_Failure, CPLE_NotSupported,
                 "HINER: %s does not store the spectral encoder (it was written with "
                 "ENCODER=NO): wavelength interpolation is unavailable, only the %u stored "
                 "bands can be read",
                 poOpenInfo->pszFilename, sInfo.bands);
        return false;
    }
    /* without wavelengths, positions are 1-based band numbers */
    const double dfLo = sInfo.has_wavelengths ? sInfo.wavelength_min : 1.0;
    const double dfHi = sInfo.has_wavelengths ? sInfo.wavelength_max : sInfo.bands;
    const double dfTol = 1e-9 * (std::fabs(dfLo) + std::fabs(dfHi) + 1.0);
    if (pszList ? !HINERParseWavelengthList(pszList, adfOut)
                : !HINERWavelengthGrid(pszStep, dfLo, dfHi, pszUnits, adfOut))
        return false;
    for (double dfVal : adfOut)
    {
        if (dfVal < dfLo - dfTol || dfVal > dfHi + dfTol)
        {
            CPLError(CE_Failure, CPLE_IllegalArg,
                     "HINER: wavelength %g is outside the range the file covers, %g-%g %s",
                     dfVal, dfLo, dfHi, pszUnits);
            return false;
        }
    }
    return true;
}
