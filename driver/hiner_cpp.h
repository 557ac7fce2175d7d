/*
 * hiner_cpp.h - C++ ownership of libhiner's C handles for the GDAL driver.
 */
#ifndef HINER_CPP_H
#define HINER_CPP_H

#include <memory>

#include "hiner.h"

struct HINERModelDeleter
{
    void operator()(hiner_model *m) const
    {
        hiner_model_free(m);
    }
};
using HINERModelPtr = std::unique_ptr<hiner_model, HINERModelDeleter>;

#endif
