# GOPERF_STATIC: goperf as one static executable, glibc included (no program interpreter, no shared
# library), so that it runs on any Linux host of its architecture whatever its libc (Ubuntu 22.04, RHEL 9,
# Amazon Linux 2, distroless and scratch images) and in an empty root. Why glibc rather than musl:
# docs/dependencies.md. Sanitizer and fuzz builds link dynamically: ASan and UBSan need the dynamic loader.
if(GOPERF_SANITIZE OR GOPERF_FUZZ)
  set(_static_default OFF)
else()
  set(_static_default ON)
endif()
option(GOPERF_STATIC "Link goperf statically, libc included" ${_static_default})
if(GOPERF_STATIC AND (GOPERF_SANITIZE OR GOPERF_FUZZ))
  message(FATAL_ERROR "GOPERF_STATIC=ON cannot be combined with GOPERF_SANITIZE or GOPERF_FUZZ: "
                      "the sanitizers' runtimes need the dynamic loader")
endif()

# The goperf executable links goperf_static_link: static-pie, static and still loaded at a random address.
# The tests and benchmarks link the same archives but glibc dynamically: GoogleTest calls getaddrinfo (for
# --gtest_stream_result_to) and Debian ships Google Benchmark as a shared library only.
add_library(goperf_static_link INTERFACE)
if(GOPERF_STATIC)
  # Find the archives (.a) of every library below, never its shared object.
  set(CMAKE_FIND_LIBRARY_SUFFIXES .a)
  set(Boost_USE_STATIC_LIBS ON)
  set(Protobuf_USE_STATIC_LIBS ON)
  target_link_options(goperf_static_link INTERFACE -static-pie)
  # A static glibc still loads NSS modules (getpwuid, getaddrinfo...) and iconv modules with dlopen, which
  # would need the very shared glibc a static binary exists to avoid; the linker warns about each such
  # call. Make those warnings errors, so that no such call can come in unnoticed with a library update.
  target_link_options(goperf_static_link INTERFACE -Wl,--fatal-warnings)
endif()

# Archives do not name what they need, and a bare path in a link line has no place of its own: libbpf
# needs libelf, which needs zlib, as does protobuf. Each becomes an imported archive target that says so.
function(goperf_declare_static_archive_deps)
  if(NOT GOPERF_STATIC)
    return()
  endif()
  foreach(_lib LIBBPF LIBELF)
    get_target_property(_archive PkgConfig::${_lib} INTERFACE_LINK_LIBRARIES)
    add_library(goperf_static_${_lib} STATIC IMPORTED)
    set_target_properties(goperf_static_${_lib} PROPERTIES IMPORTED_LOCATION ${_archive})
    set_property(TARGET PkgConfig::${_lib} PROPERTY INTERFACE_LINK_LIBRARIES goperf_static_${_lib})
  endforeach()
  set_property(TARGET goperf_static_LIBBPF PROPERTY INTERFACE_LINK_LIBRARIES goperf_static_LIBELF)
  set_property(TARGET goperf_static_LIBELF PROPERTY INTERFACE_LINK_LIBRARIES ZLIB::ZLIB)
  set_property(TARGET protobuf::libprotobuf APPEND PROPERTY INTERFACE_LINK_LIBRARIES ZLIB::ZLIB Threads::Threads)
endfunction()
