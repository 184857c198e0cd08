# Run at build time by the goperf_build_stamp target (cmake/build_stamp.cmake): writes OUT, the definition
# of goperf::profiler::kBuildStamp, if its text changed.
#   cmake -DOUT=... -DSOURCE_DIR=... -DVERSION=... [-DGIT=git] [-DCOMMIT=...] -P write_build_stamp.cmake
set(_commit "${COMMIT}")
if(_commit STREQUAL "" AND GIT)
  execute_process(COMMAND ${GIT} -C ${SOURCE_DIR} rev-parse --short=12 HEAD
                  OUTPUT_VARIABLE _commit OUTPUT_STRIP_TRAILING_WHITESPACE ERROR_QUIET RESULT_VARIABLE _rc)
  if(_rc EQUAL 0)
    # Tracked files changed since that commit: say so, the binary is not that commit's.
    execute_process(COMMAND ${GIT} -C ${SOURCE_DIR} status --porcelain --untracked-files=no
                    OUTPUT_VARIABLE _changes ERROR_QUIET)
    if(NOT _changes STREQUAL "")
      string(APPEND _commit "-dirty")
    endif()
  else()
    set(_commit "")
  endif()
endif()
if(_commit STREQUAL "")
  set(_commit "unknown")
endif()
string(TIMESTAMP _date "%Y-%m-%d" UTC)  # SOURCE_DATE_EPOCH, when set, is used instead of the clock

set(_text "// Generated at build time by cmake/write_build_stamp.cmake: do not edit.
#include \"profiler/build_stamp.h\"

namespace goperf::profiler {
const BuildStamp kBuildStamp{\"${VERSION}\", \"${_commit}\", \"${_date}\"};
}  // namespace goperf::profiler
")
if(EXISTS ${OUT})
  file(READ ${OUT} _old)
  if(_old STREQUAL _text)
    return()
  endif()
endif()
file(WRITE ${OUT} "${_text}")
