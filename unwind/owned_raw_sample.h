// OwnedRawSample: a RawSample together with its own copy of every buffer its spans point to, so that a
// sample can be kept past the sampler's callback (where RawSample's spans stop being valid).
#pragma once

#include <cstddef>
#include <cstdint>
#include <string_view>
#include <utility>
#include <vector>

#include "unwind/sampler.h"

namespace goperf::unwind {

class OwnedRawSample {
 public:
  OwnedRawSample() = default;
  // A copy would point into its source's buffers: samples are moved (moving keeps every buffer in place,
  // so the spans stay valid in the moved-to object).
  OwnedRawSample(const OwnedRawSample&) = delete;
  OwnedRawSample& operator=(const OwnedRawSample&) = delete;
  OwnedRawSample(OwnedRawSample&&) noexcept = default;
  OwnedRawSample& operator=(OwnedRawSample&&) noexcept = default;

  // Copies s, and the contents of every span of s, into this object (reusing its buffers).
  void assign(const RawSample& s);
  // The copy. Its spans point into this object: valid until the next assign() or destruction.
  const RawSample& sample() const { return sample_; }

  // Heap bytes assign(s) copies (the queue bound of a drain counts these plus sizeof(OwnedRawSample)).
  static size_t copied_bytes(const RawSample& s);

 private:
  RawSample sample_;
  std::vector<uint8_t> stack_;
  std::vector<uint8_t> stack2_;
  std::vector<uint64_t> kernel_chain_;
  std::vector<uint64_t> user_chain_;
  std::vector<char> label_text_;  // every key and value, back to back; labels_ views into it
  std::vector<std::pair<std::string_view, std::string_view>> labels_;
};

}  // namespace goperf::unwind
