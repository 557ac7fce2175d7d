/******************************************************************************
 *
 * Project:  HINER driver
 * Purpose:  The driver core: what GDAL needs before opening anything (Identify, the
 *           driver's metadata and option lists).
 *
 ******************************************************************************/

#ifndef HINERDRIVERCORE_H
#define HINERDRIVERCORE_H

#include "gdal_priv.h"

/* TRUE when the header holds the .hiner magic; reads nothing beyond pabyHeader. */
int HINERDriverIdentify(GDALOpenInfo *poOpenInfo);

/* Name, capabilities, creation data types and the option lists (hineroptions.cpp). */
void HINERDriverSetCommonMetadata(GDALDriver *poDriver);

extern "C" __attribute__((visibility("default"))) void GDALRegister_HINER();

#endif
