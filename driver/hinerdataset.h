/******************************************************************************
 *
 * Project:  HINER driver
 * Purpose:  HINERDataset and HINERRasterBand: a .hiner file read band by band (decoded
 *           bands cached), or a Create() dataset whose bands are buffered in a temporary
 *           file and trained on when flushed once complete, or else when it is closed.
 *
 ******************************************************************************/

#ifndef HINERDATASET_H
#define HINERDATASET_H

#include <list>
#include <string>
#include <vector>

#include "cpl_string.h"
#include "cpl_vsi.h"
#include "gdal_pam.h"
#include "gdal_priv.h"
#include "ogr_spatialref.h"

#include "hiner_cpp.h"

/************************************************************************/
/*                            HINERDataset                              */
/************************************************************************/

class HINERRasterBand;

class HINERDataset final : public GDALPamDataset
{
    friend class HINERRasterBand;

    /* reading */
    HINERModelPtr m_poModel{};
    int m_nTileXSize = 0, m_nTileYSize = 0; /* a tiled file's grid (blocks), else 0 */
    std::vector<GByte> m_abyTile{};      /* a ragged tile before it is copied to its block */
    hiner_dtype m_eFileType = HINER_FLOAT32;
    std::vector<double> m_adfBandWL{};   /* wavelength of each exposed band, or NaN */
    bool m_bInterpolated = false;        /* bands are decoded at requested wavelengths */
    struct CachedBand
    {
        int nBand;
        std::vector<GByte> abyData;
    };
    std::list<CachedBand> m_oCache{};    /* most recently used first */
    size_t m_nCacheBands = 1;
    std::vector<int> m_anFailed{};       /* bands whose decode failed (cached failure) */

    double m_adfGeoTransform[6] = {0, 1, 0, 0, 0, 1};
    bool m_bGeoTransformValid = false;
    OGRSpatialReference m_oSRS{};
    std::vector<GDAL_GCP> m_asGCPs{};
    OGRSpatialReference m_oGCPSRS{};

    /* writing (Create) */
    bool m_bWriteMode = false;
    std::string m_osTargetFilename{};
    std::string m_osTempFilename{};
    VSILFILE *m_fpTemp = nullptr;
    bool m_bTempWriteFailed = false;     /* a block did not reach the temporary file */
    CPLStringList m_aosCreationOptions{};
    GDALDataType m_eWriteType = GDT_Unknown;
    std::vector<bool> m_abBlockWritten{}; /* each band's strips, written at least once */
    size_t m_nBlocksWritten = 0;
    bool m_bBlocksChanged = false;        /* a block written since the last encode */
    bool m_bEncoded = false;              /* an encode ran (at FlushCache or close) */
    std::string m_osEncodedState{};       /* HINERWriteState() when it ran */
    std::string m_osEncodeError{};        /* its error, empty when it wrote the file */

    const GByte *GetBand(int nBand);
    void NoteBlockWritten(int nBand, int nBlockYOff);
    void EncodeIfChanged(bool bAtClose);
    void WriteOnClose();
    static GDALDataset *OpenInternal(GDALOpenInfo *poOpenInfo);
    /* the steps of OpenInternal */
    void SetGeoreferencing(const hiner_meta &sMeta);
    void SetDatasetMetadata(const hiner_info &sInfo, const hiner_meta &sMeta);
    HINERRasterBand *AddBand(const hiner_info &sInfo, GDALDataType eDT);
    void CreateStoredBands(const hiner_info &sInfo, const hiner_meta &sMeta, GDALDataType eDT);
    void CreateInterpolatedBands(const hiner_info &sInfo, const hiner_meta &sMeta,
                                 const std::vector<double> &adfRequested, GDALDataType eDT);
    void ApplyTuningOptions(GDALOpenInfo *poOpenInfo, GDALDataType eDT);

  public:
    /* the file the model reads tiles from, its name and whether it is on a network file
       system (a fresh handle per read there: HINERVSIReadAt) */
    struct Source
    {
        VSILFILE *fp = nullptr;
        CPLString osName{};
        bool bRemote = false;
    };
    Source m_oSource{};

  public:
    HINERDataset();
    ~HINERDataset() override;

    static GDALDataset *Open(GDALOpenInfo *poOpenInfo);
    static GDALDataset *CreateCopy(const char *pszFilename, GDALDataset *poSrcDS, int bStrict,
                                   char **papszOptions, GDALProgressFunc pfnProgress,
                                   void *pProgressData);
    static GDALDataset *Create(const char *pszFilename, int nXSize, int nYSize, int nBands,
                               GDALDataType eType, char **papszOptions);

    void FlushCache(bool bAtClosing = false) override;

    CPLErr GetGeoTransform(double *padfTransform) override;
    CPLErr SetGeoTransform(double *padfTransform) override;
    const OGRSpatialReference *GetSpatialRef() const override;
    CPLErr SetSpatialRef(const OGRSpatialReference *poSRS) override;
    int GetGCPCount() override;
    const GDAL_GCP *GetGCPs() override;
    const OGRSpatialReference *GetGCPSpatialRef() const override;
    CPLErr SetGCPs(int nGCPCount, const GDAL_GCP *pasGCPList,
                   const OGRSpatialReference *poGCP_SRS) override;
};

/************************************************************************/
/*                           HINERRasterBand                            */
/************************************************************************/

class HINERRasterBand final : public GDALPamRasterBand
{
    friend class HINERDataset;
    bool m_bHasNoData = false;
    double m_dfNoData = 0.0;
    GDALColorInterp m_eColorInterp = GCI_Undefined;

  public:
    HINERRasterBand(HINERDataset *poDSIn, int nBandIn, GDALDataType eDT);

    CPLErr IReadBlock(int nBlockXOff, int nBlockYOff, void *pImage) override;
    CPLErr ReadTile(int nBlockXOff, int nBlockYOff, void *pImage);
    CPLErr IWriteBlock(int nBlockXOff, int nBlockYOff, void *pImage) override;
    double GetNoDataValue(int *pbSuccess = nullptr) override;
    CPLErr SetNoDataValue(double dfNoData) override;
    GDALColorInterp GetColorInterpretation() override;
    CPLErr SetColorInterpretation(GDALColorInterp eInterp) override;
};

#endif
