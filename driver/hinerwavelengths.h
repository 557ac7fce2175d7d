/******************************************************************************
 *
 * Project:  HINER driver
 * Purpose:  Band wavelengths: the three conventions a source may carry them in (band
 *           items, ENVI domain, IMAGERY domain), the items a read band gets, and the
 *           WAVELENGTHS / WAVELENGTH_STEP open options.
 *
 ******************************************************************************/

#ifndef HINERWAVELENGTHS_H
#define HINERWAVELENGTHS_H

#include <string>
#include <vector>

#include "gdal_priv.h"

#include "hiner.h"

/* The wavelengths of a source dataset, from the band items (EnMAP-Box convention), then
 * the ENVI domain, then GDAL's IMAGERY domain. */
struct HINERWavelengths
{
    std::vector<double> adfCenter, adfFWHM;
    std::string osUnits;
    bool bFromBandItems = false;
};

HINERWavelengths HINERGetWavelengths(GDALDataset *poDS);

/* Micrometres per unit for GDAL's IMAGERY CENTRAL_WAVELENGTH_UM; 0 when unknown. With no
 * unit, values above 100 are nanometres (EnMAP-Box convention). */
double HINERMicronsPerUnit(const char *pszUnits, double dfTypical);

/* wavelength / fwhm / wavelength_units items, and IMAGERY's when the unit is known. */
void HINERSetWavelengthItems(GDALRasterBand *poBand, double dfWL, double dfFWHM,
                             const char *pszUnits);

/* FWHM at dfAt, linear between the neighbouring stored bands. */
double HINERInterpolateFWHM(const double *padfWL, const double *padfFWHM, uint32_t nBands,
                            double dfAt);

/* Parses WAVELENGTHS=a,b,c or WAVELENGTH_STEP=s into the wavelengths to expose (left
 * empty when neither is set); false, with a CPLError, on a bad value. */
bool HINERRequestedWavelengths(GDALOpenInfo *poOpenInfo, const hiner_info &sInfo,
                               const hiner_meta &sMeta, std::vector<double> &adfOut);

#endif
