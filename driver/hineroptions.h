/******************************************************************************
 *
 * Project:  HINER driver
 * Purpose:  The creation and open options, one table each: the driver's XML option
 *           lists and the parsers both come from it, so a range is written once. The
 *           ranges are libhiner's (hiner_params_validate) or narrower where the driver
 *           gives a value its own meaning (EPOCHS=AUTO, BPPPB > 0).
 *
 ******************************************************************************/

#ifndef HINEROPTIONS_H
#define HINEROPTIONS_H

#include <string>
#include <vector>

#include "cpl_port.h"
#include "cpl_string.h"

enum class HINEROptionType
{
    Float,     /* a number in the bounds */
    Int,       /* an integer in the bounds */
    IntOrWord, /* an integer in the bounds, or the word papszValues[0] */
    IntList,   /* 1 to nMaxItems comma-separated integers, each in the bounds */
    Boolean,   /* YES/NO, ON/OFF, TRUE/FALSE */
    Select,    /* one of papszValues (or an alias), case-insensitive */
    Text,      /* parsed by its user (WAVELENGTHS) */
};

struct HINEROption
{
    const char *pszName;
    HINEROptionType eType;
    double dfMin, dfMax; /* HUGE_VAL where unbounded */
    bool bMinExclusive, bMaxExclusive;
    const char *pszDefault; /* shown in the XML list, or nullptr */
    const char *pszDescription;
    const char *const *papszValues; /* Select's values, IntOrWord's word */
    int nMaxItems;                  /* IntList */
    const char *const *papszAliases; /* Select: "ALIAS=VALUE" pairs not listed */
};

/* A parsed value: dfValue (Float), nValue (Int, IntOrWord unless bWord), iChoice
 * (Select: index in papszValues), bValue (Boolean), anItems (IntList). */
struct HINEROptionValue
{
    bool bSet = false;
    double dfValue = 0;
    GIntBig nValue = 0;
    bool bWord = false;
    int iChoice = -1;
    bool bValue = false;
    std::vector<int> anItems;
};

extern const HINEROption HINER_CREATION_OPTIONS[];
extern const HINEROption HINER_OPEN_OPTIONS[];

/* The option of that name in a table ended by a null name; nullptr if none. */
const HINEROption *HINERFindOption(const HINEROption *pasTable, const char *pszName);

/* "an integer in [1, 256] or ALL_CPUS", "a number in (0, 1)": what a value must be. */
std::string HINEROptionExpected(const HINEROption &oOpt);

/* Parses pszValue as oOpt says; false (and no error emitted) when it is not legal. */
bool HINERParseOptionValue(const HINEROption &oOpt, const char *pszValue,
                           HINEROptionValue &oOut);

/* Fetches and parses a creation option; false with a CPLE_IllegalArg
 * "NAME=v is not a legal value: expected ..." on a bad value. */
bool HINERFetchOption(CSLConstList papszOptions, const HINEROption *pasTable,
                      const char *pszName, HINEROptionValue &oOut);

/* NUM_THREADS as that table has it, ALL_CPUS being CPLGetNumCPUs(); false when illegal. */
bool HINERParseThreads(const HINEROption *pasTable, const char *pszValue, int *pnThreads);

/* An open option that tunes but does not change what is read (NUM_THREADS, CACHE_MB): the
 * open option, else the config option pszConfigKey, else the table's default. A bad value
 * is a CE_Warning and the next source is used, as GTiff does with NUM_THREADS and GDAL's
 * own open-option validation does. */
bool HINERTuningOpenOption(CSLConstList papszOpenOptions, const char *pszName,
                           const char *pszConfigKey, HINEROptionValue &oOut);

/* "<CreationOptionList>...</CreationOptionList>" (or pszRoot) from a table. */
std::string HINEROptionListXML(const char *pszRoot, const HINEROption *pasTable);

#endif
