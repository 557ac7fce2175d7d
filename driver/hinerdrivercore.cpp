/******************************************************************************
 *
 * Project:  HINER driver
 * Purpose:  Identify, the driver's metadata and registration (GDAL's *drivercore.cpp).
 *
 ******************************************************************************/

#include "hinerdrivercore.h"

#include "gdal_frmts.h"

#include "hiner.h"
#include "hinerdataset.h"
#include "hinerdrivercommon.h"
#include "hineroptions.h"

int HINERDriverIdentify(GDALOpenInfo *poOpenInfo)
{
    if (poOpenInfo->nHeaderBytes < 8)
        return FALSE;
    return hiner_identify(poOpenInfo->pabyHeader, poOpenInfo->nHeaderBytes) ? TRUE : FALSE;
}

void HINERDriverSetCommonMetadata(GDALDriver *poDriver)
{
    poDriver->SetDescription(HINER_DRIVER_NAME);
    poDriver->SetMetadataItem(GDAL_DCAP_RASTER, "YES");
    poDriver->SetMetadataItem(GDAL_DMD_LONGNAME, "HINER hyperspectral neural representation");
    poDriver->SetMetadataItem(GDAL_DMD_HELPTOPIC, "drivers/raster/hiner.html");
    poDriver->SetMetadataItem(GDAL_DMD_EXTENSION, "hiner");
    poDriver->SetMetadataItem(GDAL_DMD_MIMETYPE, "application/x-hiner");
    poDriver->SetMetadataItem(GDAL_DCAP_VIRTUALIO, "YES");
    poDriver->SetMetadataItem(GDAL_DCAP_OPEN, "YES");
    poDriver->SetMetadataItem(GDAL_DCAP_CREATE, "YES");
    poDriver->SetMetadataItem(GDAL_DCAP_CREATECOPY, "YES");
    poDriver->SetMetadataItem(GDAL_DMD_CREATIONDATATYPES,
                              "Byte Int16 UInt16 Int32 UInt32 Float32 Float64");
    poDriver->SetMetadataItem(
        GDAL_DMD_CREATIONOPTIONLIST,
        HINEROptionListXML("CreationOptionList", HINER_CREATION_OPTIONS).c_str());
    poDriver->SetMetadataItem(GDAL_DMD_OPENOPTIONLIST,
                              HINEROptionListXML("OpenOptionList", HINER_OPEN_OPTIONS).c_str());
}

void GDALRegister_HINER()
{
    if (!GDAL_CHECK_VERSION("HINER"))
        return;
    if (GDALGetDriverByName(HINER_DRIVER_NAME) != nullptr)
        return;
    auto poDriver = new GDALDriver();
    HINERDriverSetCommonMetadata(poDriver);
    poDriver->pfnIdentify = HINERDriverIdentify;
    poDriver->pfnOpen = HINERDataset::Open;
    poDriver->pfnCreateCopy = HINERDataset::CreateCopy;
    poDriver->pfnCreate = HINERDataset::Create;
    GetGDALDriverManager()->RegisterDriver(poDriver);
}
