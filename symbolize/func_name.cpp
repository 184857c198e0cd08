// Closure names (cmd/compile/internal/ir/func.go closureName): outer + ".func" + N.
#include "symbolize/func_name.h"

namespace goperf::symbolize {

std::string_view closure_parent(std::string_view name) {
  size_t dot = name.rfind(".func");
  if (dot == std::string_view::npos) return {};
  return name.substr(0, dot);
}

}  // namespace goperf::symbolize
