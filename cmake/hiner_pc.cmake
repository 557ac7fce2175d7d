# Writes hiner.pc and hiner-classify.pc at install time, when the prefix (cmake --install
# --prefix) is known.
# Run by the install rules of the top-level CMakeLists.txt, which set HINER_PC_* first.
# Relative directories become ${prefix}/..., so the file stays right for any prefix.
set(prefix "${CMAKE_INSTALL_PREFIX}")
if(IS_ABSOLUTE "${HINER_PC_LIBDIR}")
  set(libdir "${HINER_PC_LIBDIR}")
else()
  set(libdir "\${exec_prefix}/${HINER_PC_LIBDIR}")
endif()
if(IS_ABSOLUTE "${HINER_PC_INCLUDEDIR}")
  set(includedir "${HINER_PC_INCLUDEDIR}")
else()
  set(includedir "\${prefix}/${HINER_PC_INCLUDEDIR}")
endif()
foreach(pc hiner hiner-classify)
  configure_file("${HINER_PC_SRCDIR}/${pc}.pc.in" "${HINER_PC_OUTDIR}/${pc}.pc" @ONLY)
endforeach()
