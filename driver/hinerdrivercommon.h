/******************************************************************************
 *
 * Project:  HINER driver
 * Purpose:  What every part of the driver shares: libhiner status to CPLError, the log
 *           callback, data type mapping, number formatting.
 *
 ******************************************************************************/

#ifndef HINERDRIVERCOMMON_H
#define HINERDRIVERCOMMON_H

#include <string>

#include "cpl_error.h"
#include "gdal_priv.h"

#include "hiner.h"

constexpr const char *HINER_DRIVER_NAME = "HINER";

/* The CPLE_* number of a hiner_status. */
CPLErrorNum HINERErrorNum(int nStatus);

/* Collects libhiner's log: errors become the detail of the CPLError, the rest goes to
 * CPLDebug("HINER") (training curves with CPL_DEBUG=ON). */
struct HINERLog
{
    std::string osLastError;
};

/* hiner_log_fn over a HINERLog. */
void HINERLogFn(int nLevel, const char *pszMsg, void *pUser);

/* "HINER: <what> failed: <status>: <log>", or CPLE_UserInterrupt on a cancel. */
void HINERReportError(int nStatus, const HINERLog &oLog, const char *pszWhat);

/* The libhiner type of a GDAL type; false for the types the format has not. */
bool HINERTypeFromGDAL(GDALDataType eDT, hiner_dtype *peOut);

/* The GDAL type a file's type is read as (Int8 as Byte). */
GDALDataType HINERTypeToGDAL(hiner_dtype eDT);

/* The shortest decimal that parses back to exactly dfVal, without an exponent between
 * 1e-4 and 1e15 (640, not 6.4e+02), as libhiner stores it. */
std::string HINERFormatDouble(double dfVal);

/* Sets an item without marking PAM dirty (values that live in the .hiner file). */
void HINERSetItem(GDALMajorObject *poObj, const char *pszKey, const char *pszValue,
                  const char *pszDomain = "");

#endif
