/******************************************************************************
 *
 * Project:  HINER driver
 * Purpose:  The option tables, the XML option lists generated from them, and the
 *           parser that checks a value against its row.
 *
 ******************************************************************************/

#include "hineroptions.h"

#include <cerrno>
#include <climits>
#include <cmath>
#include <cstdlib>

#include "hiner.h"
#include "hinerdrivercommon.h"

static const char *const apszAuto[] = {"AUTO", nullptr};
static const char *const apszAllCPUs[] = {"ALL_CPUS", nullptr};
static const char *const apszEntropy[] = {"AUTO", "HUFFMAN", "ARITH", nullptr};
static const char *const apszEntropyAliases[] = {"ARITHMETIC=ARITH", nullptr};

using T = HINEROptionType;
constexpr double INF = HUGE_VAL;

/* The ranges follow hiner_params_validate (core/api.c); EPOCHS and QAT_EPOCHS leave its -1
 * (automatic) to AUTO and to the option's absence, BPPPB its 0 (no target) to SIZE. */
const HINEROption HINER_CREATION_OPTIONS[] = {
    {"BPPPB", T::Float, 0, 64, true, false, "0.2",
     "Target rate of the whole file in bits per pixel per band", nullptr, 0, nullptr},
    {"SIZE", T::Int, 1, 1099511627776.0, false, false, nullptr,
     "Target size of the whole file in bytes (instead of BPPPB)", nullptr, 0, nullptr},
    {"EFFORT", T::Int, 1, HINER_EFFORT_MAX, false, false, "5",
     "How long training runs when EPOCHS is AUTO: each level about 1.7 times the one below, "
     "the same work on any machine",
     nullptr, 0, nullptr},
    {"EPOCHS", T::IntOrWord, 1, 100000, false, false, "AUTO",
     "Training passes over all bands (AUTO: as many as the compute budget of EFFORT allows, "
     "small networks train longer)",
     apszAuto, 0, nullptr},
    {"QUANT_BITS", T::Int, 2, 16, false, false, "8",
     "Weight quantization bit width the network is sized for", nullptr, 0, nullptr},
    {"SEED", T::Int, 0, INF, false, false, "1", "Seed of initialisation and band shuffling",
     nullptr, 0, nullptr},
    {"NUM_THREADS", T::IntOrWord, 1, 256, false, false, "ALL_CPUS",
     "Worker threads (default: GDAL_NUM_THREADS, else ALL_CPUS)", apszAllCPUs, 0, nullptr},
    {"LR", T::Float, 0, 1, true, true, "0.003", "Peak Adam learning rate", nullptr, 0,
     nullptr},
    {"W_L1", T::Float, 0, 1e6, false, false, "0.5", "Weight of the L1 loss", nullptr, 0,
     nullptr},
    {"W_CAM", T::Float, 0, 1e6, false, false, "0.005",
     "Weight of the CAM (content angle, degrees) loss", nullptr, 0, nullptr},
    {"STRIDES", T::IntList, 1, 8, false, false, nullptr,
     "Upsampling strides of the decoder stages, e.g. 5,4,3,2 (default: chosen from the "
     "image size)",
     nullptr, HINER_MAX_STAGES, nullptr},
    {"QAT_EPOCHS", T::Int, 0, 100000, false, false, nullptr,
     "Quantization-aware fine-tuning epochs (default: EPOCHS/20)", nullptr, 0, nullptr},
    {"ENCODER", T::Boolean, 0, 0, false, false, "YES",
     "Store the spectral encoder so that any wavelength decodes", nullptr, 0, nullptr},
    {"ENTROPY", T::Select, 0, 0, false, false, "AUTO", "Entropy coder of the weights",
     apszEntropy, 0, apszEntropyAliases},
    {"BLOCKXSIZE", T::Int, 1, 65535, false, false, nullptr,
     "Tile width: each tile is its own network and a block of the file (default: 160, and "
     "a scene up to 200 wide stays one tile)",
     nullptr, 0, nullptr},
    {"BLOCKYSIZE", T::Int, 1, 65535, false, false, nullptr,
     "Tile height (default: as BLOCKXSIZE)", nullptr, 0, nullptr},
    {"TILE_MARGIN", T::Int, 0, 256, false, false, nullptr,
     "Pixels of the neighbouring tiles that the network of a tile also trains on, so that tiles do "
     "not show their edges (default: automatic)",
     nullptr, 0, nullptr},
    {nullptr, T::Text, 0, 0, false, false, nullptr, nullptr, nullptr, 0, nullptr},
};

const HINEROption HINER_OPEN_OPTIONS[] = {
    {"WAVELENGTHS", T::Text, 0, 0, false, false, nullptr,
     "Comma-separated wavelengths (file units; 1-based band positions when the file has "
     "none) to decode instead of the stored bands",
     nullptr, 0, nullptr},
    {"WAVELENGTH_STEP", T::Float, 0, INF, true, false, nullptr,
     "Decode a regular grid of wavelengths with this step over the covered range", nullptr,
     0, nullptr},
    {"NUM_THREADS", T::IntOrWord, 1, 256, false, false, "ALL_CPUS",
     "Decoding threads (default: GDAL_NUM_THREADS, else ALL_CPUS)", apszAllCPUs, 0,
     nullptr},
    {"CACHE_MB", T::Float, 0, INF, false, false, "256",
     "Memory for decoded bands (config option HINER_CACHE_MB)", nullptr, 0, nullptr},
    {nullptr, T::Text, 0, 0, false, false, nullptr, nullptr, nullptr, 0, nullptr},
};

const HINEROption *HINERFindOption(const HINEROption *pasTable, const char *pszName)
{
    for (const HINEROption *psOpt = pasTable; psOpt->pszName; ++psOpt)
        if (EQUAL(psOpt->pszName, pszName))
            return psOpt;
    return nullptr;
}

/************************************************************************/
/*                         Ranges as text                               */
/************************************************************************/

/* Text for an XML attribute between single quotes. */
static std::string HINERXMLEscape(const std::string &osIn)
{
    std::string os;
    for (char c : osIn)
    {
        switch (c)
        {
            case '&': os += "&amp;"; break;
            case '<': os += "&lt;"; break;
            case '>': os += "&gt;"; break;
            case '\'': os += "&apos;"; break;
            default: os += c;
        }
    }
    return os;
}

/* "[1, 100000]", "(0, 1)", ">= 0", "> 0" */
static std::string HINERBounds(const HINEROption &oOpt)
{
    const std::string osMin = HINERFormatDouble(oOpt.dfMin);
    if (std::isinf(oOpt.dfMax))
        return (oOpt.bMinExclusive ? "> " : ">= ") + osMin;
    return (oOpt.bMinExclusive ? "(" : "[") + osMin + ", " + HINERFormatDouble(oOpt.dfMax) +
           (oOpt.bMaxExclusive ? ")" : "]");
}

/* "AUTO, HUFFMAN or ARITH" */
static std::string HINERChoices(const char *const *papszValues)
{
    std::string os;
    for (int i = 0; papszValues[i]; i++)
    {
        if (i > 0)
            os += papszValues[i + 1] ? ", " : " or ";
        os += papszValues[i];
    }
    return os;
}

std::string HINEROptionExpected(const HINEROption &oOpt)
{
    const std::string osBounds = HINERBounds(oOpt);
    const char *pszIn = osBounds[0] == '[' || osBounds[0] == '(' ? " in " : " ";
    switch (oOpt.eType)
    {
        case T::Float:
            return std::string("a number") + pszIn + osBounds;
        case T::Int:
            return std::string("an integer") + pszIn + osBounds;
        case T::IntOrWord:
            return std::string("an integer") + pszIn + osBounds + " or " + oOpt.papszValues[0];
        case T::IntList:
            return CPLSPrintf("1 to %d comma-separated integers, each%s%s", oOpt.nMaxItems,
                              pszIn, osBounds.c_str());
        case T::Boolean:
            return "YES or NO";
        case T::Select:
            return HINERChoices(oOpt.papszValues);
        case T::Text:
            break;
    }
    return "text";
}

/************************************************************************/
/*                              Parsing                                 */
/************************************************************************/

static bool HINERInBounds(const HINEROption &oOpt, double dfVal)
{
    if (oOpt.bMinExclusive ? dfVal <= oOpt.dfMin : dfVal < oOpt.dfMin)
        return false;
    return oOpt.bMaxExclusive ? dfVal < oOpt.dfMax : dfVal <= oOpt.dfMax;
}

static bool HINERParseInteger(const HINEROption &oOpt, const char *pszValue, GIntBig *pnOut)
{
    char *pszEnd = nullptr;
    errno = 0;
    const long long nVal = std::strtoll(pszValue, &pszEnd, 10);
    if (pszEnd == pszValue || *pszEnd != '\0' || errno != 0 ||
        !HINERInBounds(oOpt, static_cast<double>(nVal)))
        return false;
    *pnOut = nVal;
    return true;
}

static bool HINERParseSelect(const HINEROption &oOpt, const char *pszValue, int *piOut)
{
    for (int i = 0; oOpt.papszAliases && oOpt.papszAliases[i]; i++)
    {
        char *pszAlias = nullptr;
        const char *pszTo = CPLParseNameValue(oOpt.papszAliases[i], &pszAlias);
        const bool bAlias = pszAlias && EQUAL(pszAlias, pszValue);
        CPLFree(pszAlias);
        if (bAlias)
            pszValue = pszTo;
    }
    for (int i = 0; oOpt.papszValues[i]; i++)
    {
        if (EQUAL(oOpt.papszValues[i], pszValue))
        {
            *piOut = i;
            return true;
        }
    }
    return false;
}

static bool HINERParseIntList(const HINEROption &oOpt, const char *pszValue,
                              std::vector<int> &anOut)
{
    CPLStringList aosTok(CSLTokenizeString2(pszValue, ", ", 0));
    if (aosTok.size() < 1 || aosTok.size() > oOpt.nMaxItems)
        return false;
    for (int i = 0; i < aosTok.size(); i++)
    {
        GIntBig nItem = 0;
        if (!HINERParseInteger(oOpt, aosTok[i], &nItem))
            return false;
        anOut.push_back(static_cast<int>(nItem));
    }
    return true;
}

bool HINERParseOptionValue(const HINEROption &oOpt, const char *pszValue,
                           HINEROptionValue &oOut)
{
    oOut = HINEROptionValue();
    oOut.bSet = true;
    switch (oOpt.eType)
    {
        case T::Float:
        {
            char *pszEnd = nullptr;
            oOut.dfValue = CPLStrtod(pszValue, &pszEnd);
            return pszEnd != pszValue && *pszEnd == '\0' && std::isfinite(oOut.dfValue) &&
                   HINERInBounds(oOpt, oOut.dfValue);
        }
        case T::IntOrWord:
            oOut.bWord = EQUAL(pszValue, oOpt.papszValues[0]);
            return oOut.bWord || HINERParseInteger(oOpt, pszValue, &oOut.nValue);
        case T::Int:
            return HINERParseInteger(oOpt, pszValue, &oOut.nValue);
        case T::IntList:
            return HINERParseIntList(oOpt, pszValue, oOut.anItems);
        case T::Boolean:
            oOut.bValue = CPLTestBool(pszValue);
            return EQUAL(pszValue, "YES") || EQUAL(pszValue, "NO") || EQUAL(pszValue, "ON") ||
                   EQUAL(pszValue, "OFF") || EQUAL(pszValue, "TRUE") || EQUAL(pszValue, "FALSE");
        case T::Select:
            return HINERParseSelect(oOpt, pszValue, &oOut.iChoice);
        case T::Text:
            return true;
    }
    return false;
}

bool HINERFetchOption(CSLConstList papszOptions, const HINEROption *pasTable,
                      const char *pszName, HINEROptionValue &oOut)
{
    oOut = HINEROptionValue();
    const HINEROption *psOpt = HINERFindOption(pasTable, pszName);
    const char *pszValue = CSLFetchNameValue(papszOptions, pszName);
    if (psOpt == nullptr || pszValue == nullptr)
        return true;
    if (HINERParseOptionValue(*psOpt, pszValue, oOut))
        return true;
    CPLError(CE_Failure, CPLE_IllegalArg, "%s=%s is not a legal value: expected %s", pszName,
             pszValue, HINEROptionExpected(*psOpt).c_str());
    return false;
}

/************************************************************************/
/*                          XML option lists                            */
/************************************************************************/

static const char *HINERXMLType(HINEROptionType eType)
{
    switch (eType)
    {
        case T::Float:
            return "float";
        case T::Int:
            return "int";
        case T::Boolean:
            return "boolean";
        case T::Select:
            return "string-select";
        default:
            return "string";
    }
}

/* One <Option>: min and max as attributes where GDAL can check them (it reads them as
 * inclusive, and an int's through atoi), the range in the description where they say
 * less than the parser. */
static std::string HINEROptionXML(const HINEROption &oOpt)
{
    std::string os = CPLSPrintf("   <Option name='%s' type='%s'", oOpt.pszName,
                                HINERXMLType(oOpt.eType));
    const bool bNumeric = oOpt.eType == T::Float || oOpt.eType == T::Int;
    if (bNumeric)
        os += " min='" + HINERFormatDouble(oOpt.dfMin) + "'";
    const bool bMaxAttr = bNumeric && !std::isinf(oOpt.dfMax) &&
                          (oOpt.eType == T::Float || oOpt.dfMax <= INT_MAX);
    if (bMaxAttr)
        os += " max='" + HINERFormatDouble(oOpt.dfMax) + "'";
    if (oOpt.pszDefault)
        os += std::string(" default='") + oOpt.pszDefault + "'";
    std::string osDesc = oOpt.pszDescription;
    if ((bNumeric && (oOpt.bMinExclusive || oOpt.bMaxExclusive ||
                      (!bMaxAttr && !std::isinf(oOpt.dfMax)))) ||
        oOpt.eType == T::IntOrWord || oOpt.eType == T::IntList)
        osDesc += ": " + HINEROptionExpected(oOpt);
    os += " description='" + HINERXMLEscape(osDesc) + "'";
    if (oOpt.eType != T::Select)
        return os + "/>";
    os += ">";
    for (int i = 0; oOpt.papszValues[i]; i++)
        os += std::string("       <Value>") + oOpt.papszValues[i] + "</Value>";
    return os + "   </Option>";
}

std::string HINEROptionListXML(const char *pszRoot, const HINEROption *pasTable)
{
    std::string os = std::string("<") + pszRoot + ">";
    for (const HINEROption *psOpt = pasTable; psOpt->pszName; ++psOpt)
        os += HINEROptionXML(*psOpt);
    return os + "</" + pszRoot + ">";
}

bool HINERParseThreads(const HINEROption *pasTable, const char *pszValue, int *pnThreads)
{
    HINEROptionValue oVal;
    if (!HINERParseOptionValue(*HINERFindOption(pasTable, "NUM_THREADS"), pszValue, oVal))
        return false;
    *pnThreads = oVal.bWord ? CPLGetNumCPUs() : static_cast<int>(oVal.nValue);
    return true;
}

bool HINERTuningOpenOption(CSLConstList papszOpenOptions, const char *pszName,
                           const char *pszConfigKey, HINEROptionValue &oOut)
{
    const HINEROption *psOpt = HINERFindOption(HINER_OPEN_OPTIONS, pszName);
    const char *apszKeys[] = {pszName, pszConfigKey, "default"};
    const char *apszValues[] = {CSLFetchNameValue(papszOpenOptions, pszName),
                                CPLGetConfigOption(pszConfigKey, nullptr), psOpt->pszDefault};
    for (int i = 0; i < 3; i++)
    {
        if (apszValues[i] == nullptr)
            continue;
        if (HINERParseOptionValue(*psOpt, apszValues[i], oOut))
            return true;
        CPLError(CE_Warning, CPLE_IllegalArg,
                 "HINER: %s=%s is not a legal value: expected %s; ignored", apszKeys[i],
                 apszValues[i], HINEROptionExpected(*psOpt).c_str());
    }
    return false;
}
