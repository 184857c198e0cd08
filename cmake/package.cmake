# Installing goperf: `cmake --install build [--prefix DIR]` puts the one binary in bin/ and the README in
# share/doc/goperf/; `cpack --config build/CPackConfig.cmake` (or `cmake --build build --target package`)
# makes goperf_<version>_<arch>.deb of the same files, for `apt-get install ./goperf_*.deb`.
include(GNUInstallDirs)
install(TARGETS goperf RUNTIME DESTINATION ${CMAKE_INSTALL_BINDIR})
install(FILES ${PROJECT_SOURCE_DIR}/README.md DESTINATION ${CMAKE_INSTALL_DOCDIR})

set(CPACK_GENERATOR DEB)
set(CPACK_PACKAGE_NAME goperf)
set(CPACK_PACKAGE_VERSION ${PROJECT_VERSION})
set(CPACK_PACKAGE_VENDOR goperf)
set(CPACK_PACKAGE_CONTACT "goperf developers <goperf@localhost>")
set(CPACK_PACKAGE_DESCRIPTION_SUMMARY "profiler and post-mortem debugger for stripped Go programs")
set(CPACK_PACKAGE_DESCRIPTION
    "goperf samples the CPU use of Go programs with exact Go stacks (pprof output), prints every goroutine of a \
live process or a core file in the runtime's SIGQUIT format, and names addresses, on binaries without symbols \
or DWARF: it reads the pclntab every Go binary keeps.")
set(CPACK_PACKAGING_INSTALL_PREFIX /usr)
set(CPACK_DEBIAN_FILE_NAME DEB-DEFAULT)  # goperf_<version>_<arch>.deb
set(CPACK_DEBIAN_PACKAGE_SECTION devel)
set(CPACK_DEBIAN_PACKAGE_PRIORITY optional)
set(CPACK_STRIP_FILES ON)
if(GOPERF_STATIC)
  set(CPACK_DEBIAN_PACKAGE_DEPENDS "")  # one static binary: it needs no other package
else()
  set(CPACK_DEBIAN_PACKAGE_SHLIBDEPS ON)  # a dynamic build depends on the packages of its libraries
endif()
include(CPack)
