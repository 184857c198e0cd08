// What a Go function's name says about it, by the compiler's naming rules (cmd/compile/internal/ir
// closurename: a closure is named after the function it is in, "outer.func1", "outer.func1.2").
#pragma once

#include <string_view>

namespace goperf::symbolize {

// The function a closure was written in ("runtime.(*mheap).alloc" for "runtime.(*mheap).alloc.func1");
// "" when `name` is no closure.
std::string_view closure_parent(std::string_view name);

}  // namespace goperf::symbolize
