// The one place a RawSample is copied: each span's contents go to a buffer of the OwnedRawSample.
#include "unwind/owned_raw_sample.h"

#include <utility>

namespace goperf::unwind {
// Not in the anonymous namespace: its conversion is declared, never defined (only used unevaluated), which
// clang's -Wundefined-internal refuses for internal linkage.
namespace field_count_detail {
// Converts to any type, in unevaluated contexts only.
struct AnyField {
  template <class T>
  operator T() const;
};
}  // namespace field_count_detail

namespace {

using field_count_detail::AnyField;

// The number of fields of an aggregate: the most initializers T{...} accepts (each converts to anything).
template <class T, size_t... I>
constexpr bool initializable_from(std::index_sequence<I...>) {
  return requires { T{(void(I), AnyField{})...}; };
}
template <class T, size_t N = 0>
constexpr size_t field_count() {
  if constexpr (initializable_from<T>(std::make_index_sequence<N + 1>())) {
    return field_count<T, N + 1>();
  } else {
    return N;
  }
}

// A field added to RawSample stops the build here until assign() below handles it: a value is copied by
// `sample_ = s`, but a span (or any other view) must get a buffer of its own and be re-pointed, or the
// queued sample reads the sampler's memory after the callback (as stack2 once did).
static_assert(field_count<RawSample>() == 17, "RawSample changed: update OwnedRawSample::assign and this count");

}  // namespace

void OwnedRawSample::assign(const RawSample& s) {
  sample_ = s;
  stack_.assign(s.stack.begin(), s.stack.end());
  stack2_.assign(s.stack2.begin(), s.stack2.end());
  kernel_chain_.assign(s.kernel_chain.begin(), s.kernel_chain.end());
  user_chain_.assign(s.user_chain.begin(), s.user_chain.end());
  label_text_.clear();
  for (const auto& [key, value] : s.labels) {
    label_text_.insert(label_text_.end(), key.begin(), key.end());
    label_text_.insert(label_text_.end(), value.begin(), value.end());
  }
  // Views are taken once all the text is in place (appending may move the buffer).
  labels_.clear();
  const char* text = label_text_.data();
  for (const auto& [key, value] : s.labels) {
    std::string_view k(text, key.size());
    std::string_view v(text + key.size(), value.size());
    labels_.emplace_back(k, v);
    text += key.size() + value.size();
  }
  sample_.stack = stack_;
  sample_.stack2 = stack2_;
  sample_.kernel_chain = kernel_chain_;
  sample_.user_chain = user_chain_;
  sample_.labels = labels_;
}

size_t OwnedRawSample::copied_bytes(const RawSample& s) {
  size_t label_bytes = s.labels.size() * sizeof(decltype(labels_)::value_type);
  for (const auto& [key, value] : s.labels) label_bytes += key.size() + value.size();
  return s.stack.size() + s.stack2.size() + (s.kernel_chain.size() + s.user_chain.size()) * sizeof(uint64_t) +
         label_bytes;
}

}  // namespace goperf::unwind
