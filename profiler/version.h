// What `goperf --version` prints: the build stamp, and the Go releases and architectures goperf reads.
#pragma once

#include <string>

#include "profiler/build_stamp.h"

namespace goperf::profiler {

std::string version_text(const BuildStamp& stamp);

}  // namespace goperf::profiler
