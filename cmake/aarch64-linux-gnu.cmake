# Cross-compiling goperf for arm64 Linux on an amd64 Debian host (scripts/setup builds build-arm64/ with it):
# Debian's g++-aarch64-linux-gnu, and the :arm64 development packages installed side by side with the
# host's through multiarch (dpkg --add-architecture arm64), whose archives and pkg-config files live in
# /usr/lib/aarch64-linux-gnu. Host programs (protoc, clang for the BPF target, bpftool) stay the host's.
set(CMAKE_SYSTEM_NAME Linux)
set(CMAKE_SYSTEM_PROCESSOR aarch64)
set(CMAKE_C_COMPILER aarch64-linux-gnu-gcc)
set(CMAKE_CXX_COMPILER aarch64-linux-gnu-g++)
set(CMAKE_LIBRARY_ARCHITECTURE aarch64-linux-gnu)

# One root shared with the host: keep the host's libraries and CMake package files out of every search,
# so that no amd64 archive or Boost config is taken for the target's.
list(APPEND CMAKE_IGNORE_PATH /usr/lib/x86_64-linux-gnu /usr/lib/x86_64-linux-gnu/cmake
     /lib/x86_64-linux-gnu /usr/include/x86_64-linux-gnu)
set(CMAKE_FIND_ROOT_PATH_MODE_PROGRAM NEVER)

# pkg-config reads the target's .pc files only (the headers they name are shared by both architectures).
set(ENV{PKG_CONFIG_LIBDIR} /usr/lib/aarch64-linux-gnu/pkgconfig:/usr/share/pkgconfig)
set(ENV{PKG_CONFIG_PATH} "")

# The unit tests and benchmarks run on the build host; the arm64 build is the goperf executable alone.
set(GOPERF_TESTS OFF CACHE BOOL "" FORCE)
set(GOPERF_BENCH OFF CACHE BOOL "" FORCE)
