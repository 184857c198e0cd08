# The build stamp `goperf --version` prints: goperf's version (project()), the commit it was built from and
# the build date. The commit and date change without any source file changing, so a target that always
# runs rewrites the generated file at each build, and only when its text differs: goperf is relinked when
# the commit or the date moved, and not otherwise.
# GOPERF_COMMIT names the commit where the source is not a git checkout (a source tarball); the date honours
# SOURCE_DATE_EPOCH, for reproducible builds.
find_package(Git QUIET)
set(GOPERF_COMMIT "" CACHE STRING "Commit goperf is built from, where the source is not a git checkout")
set(GOPERF_BUILD_STAMP_CPP ${PROJECT_BINARY_DIR}/generated/build_stamp.cpp)
add_custom_target(goperf_build_stamp
  COMMAND ${CMAKE_COMMAND} -DOUT=${GOPERF_BUILD_STAMP_CPP} -DSOURCE_DIR=${PROJECT_SOURCE_DIR}
          -DVERSION=${PROJECT_VERSION} -DGIT=${GIT_EXECUTABLE} -DCOMMIT=${GOPERF_COMMIT}
          -P ${PROJECT_SOURCE_DIR}/cmake/write_build_stamp.cmake
  BYPRODUCTS ${GOPERF_BUILD_STAMP_CPP}
  COMMENT "Checking goperf's build stamp (version, commit, date)" VERBATIM)
