/******************************************************************************
 *
 * Project:  HINER driver
 * Purpose:  Status and log mapping, data types and number formatting shared by the
 *           driver's read and create paths.
 *
 ******************************************************************************/

#include "hinerdrivercommon.h"

#include <cmath>
#include <cstring>

#include "cpl_conv.h"

/************************************************************************/
/*                         Status and logging                           */
/************************************************************************/

CPLErrorNum HINERErrorNum(int nStatus)
{
    switch (nStatus)
    {
        case HINER_E_NOMEM:
            return CPLE_OutOfMemory;
        case HINER_E_INVALID_ARG:
        case HINER_E_BUDGET:
            return CPLE_IllegalArg;
        case HINER_E_IO:
            return CPLE_FileIO;
        case HINER_E_ABORTED:
            return CPLE_UserInterrupt;
        case HINER_E_UNSUPPORTED:
        case HINER_E_VERSION:
            return CPLE_NotSupported;
        default:
            return CPLE_AppDefined;
    }
}

void HINERLogFn(int nLevel, const char *pszMsg, void *pUser)
{
    auto psLog = static_cast<HINERLog *>(pUser);
    if (nLevel == 0)
    {
        if (!psLog->osLastError.empty())
            psLog->osLastError += "; ";
        psLog->osLastError += pszMsg;
    }
    else if (nLevel == 1)
        CPLError(CE_Warning, CPLE_AppDefined, "HINER: %s", pszMsg);
    else
        CPLDebug("HINER", "%s", pszMsg);
}

void HINERReportError(int nStatus, const HINERLog &oLog, const char *pszWhat)
{
    if (nStatus == HINER_E_ABORTED)
    {
        CPLError(CE_Failure, CPLE_UserInterrupt, "User terminated %s", pszWhat);
        return;
    }
    CPLError(CE_Failure, HINERErrorNum(nStatus), "HINER: %s failed: %s%s%s", pszWhat,
             hiner_status_str(nStatus), oLog.osLastError.empty() ? "" : ": ",
             oLog.osLastError.c_str());
}

/************************************************************************/
/*                             Data types                               */
/************************************************************************/

bool HINERTypeFromGDAL(GDALDataType eDT, hiner_dtype *peOut)
{
    switch (eDT)
    {
        case GDT_Byte:
            *peOut = HINER_UINT8;
            return true;
        case GDT_UInt16:
            *peOut = HINER_UINT16;
            return true;
        case GDT_Int16:
            *peOut = HINER_INT16;
            return true;
        case GDT_UInt32:
            *peOut = HINER_UINT32;
            return true;
        case GDT_Int32:
            *peOut = HINER_INT32;
            return true;
        case GDT_Float32:
            *peOut = HINER_FLOAT32;
            return true;
        case GDT_Float64:
            *peOut = HINER_FLOAT64;
            return true;
        default:
            return false;
    }
}

GDALDataType HINERTypeToGDAL(hiner_dtype eDT)
{
    switch (eDT)
    {
        case HINER_UINT8:
        case HINER_INT8:
            return GDT_Byte;
        case HINER_UINT16:
            return GDT_UInt16;
        case HINER_INT16:
            return GDT_Int16;
        case HINER_UINT32:
            return GDT_UInt32;
        case HINER_INT32:
            return GDT_Int32;
        case HINER_FLOAT32:
            return GDT_Float32;
        case HINER_FLOAT64:
            return GDT_Float64;
    }
    return GDT_Float32;
}

/************************************************************************/
/*                          Numbers and items                           */
/************************************************************************/

std::string HINERFormatDouble(double dfVal)
{
    char szBuf[40];
    const double dfAbs = std::fabs(dfVal);
    const bool bPlain = dfAbs == 0 || (dfAbs >= 1e-4 && dfAbs < 1e15);
    for (int nPrec = 1; nPrec <= 17; nPrec++)
    {
        CPLsnprintf(szBuf, sizeof(szBuf), "%.*g", nPrec, dfVal);
        if (CPLAtof(szBuf) == dfVal && (!bPlain || strchr(szBuf, 'e') == nullptr))
            break;
    }
    return szBuf;
}

void HINERSetItem(GDALMajorObject *poObj, const char *pszKey, const char *pszValue,
                  const char *pszDomain)
{
    poObj->GDALMajorObject::SetMetadataItem(pszKey, pszValue, pszDomain);
}
