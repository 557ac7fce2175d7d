# Writes python/hiner's _config.py (where libhiner and the GDAL plugin are) and the
# hiner-dask-encode launcher (a Python script that imports the package from PYDIR).
# Build tree: cmake -P with HINER_PY_LIB, HINER_PY_PLUGIN, HINER_PY_DIR, HINER_PY_BIN set
# to absolute paths. Install: run by install(SCRIPT) after the top-level CMakeLists.txt set
# HINER_PY_INSTALL and the directories relative to the prefix, known only then.
if(HINER_PY_INSTALL)
  set(_prefix "${CMAKE_INSTALL_PREFIX}")
  foreach(v HINER_PY_LIB HINER_PY_PLUGIN HINER_PY_DIR HINER_PY_BIN)
    if(NOT "${${v}}" STREQUAL "" AND NOT IS_ABSOLUTE "${${v}}")
      set(${v} "${_prefix}/${${v}}")
    endif()
  endforeach()
endif()
set(_tmp "${HINER_PY_STAGE}")
file(MAKE_DIRECTORY "${_tmp}")
file(WRITE "${_tmp}/_config.py"
  "\"\"\"Where this copy of the package finds libhiner and the GDAL plugin (written by the\n"
  "build or the install; HINER_LIBRARY and HINER_PLUGIN in the environment override).\"\"\"\n"
  "LIBHINER = '${HINER_PY_LIB}'\n"
  "PLUGIN = '${HINER_PY_PLUGIN}'\n")
file(WRITE "${_tmp}/hiner-dask-encode"
  "#!/usr/bin/python3\n"
  "\"\"\"hiner-dask-encode SRC DST [--scheduler ADDR] [--workers N] [-co KEY=VALUE ...]:\n"
  "a .hiner file encoded on a Dask cluster (docs/distributed.md).\"\"\"\n"
  "import sys\n"
  "sys.path.insert(0, '${HINER_PY_DIR}')\n"
  "from hiner.cli import main  # noqa: E402\n"
  "if __name__ == '__main__':  # not when a spawned Dask worker imports this script\n"
  "    sys.exit(main())\n")
if(HINER_PY_INSTALL)
  set(_how INSTALL) # listed in install_manifest.txt; file(INSTALL) adds DESTDIR itself
else()
  set(_how COPY)
endif()
file(${_how} "${_tmp}/_config.py" DESTINATION "${HINER_PY_DIR}/hiner")
file(${_how} "${_tmp}/hiner-dask-encode" DESTINATION "${HINER_PY_BIN}"
  FILE_PERMISSIONS OWNER_READ OWNER_WRITE OWNER_EXECUTE GROUP_READ GROUP_EXECUTE
                   WORLD_READ WORLD_EXECUTE)
