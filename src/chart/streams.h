// Internal: byte sinks between std::streams and the envelope's streaming sealer and opener.
#pragma once

#include <fstream>
#include <optional>
#include <streambuf>
#include <string>

#include "cipherchart/envelope/envelope.h"

namespace cipherchart::chart::internal {

// An ostream whose bytes go to a ByteSink: a download streams straight into an EnvelopeOpener.
// The first error is kept (and the stream goes bad); later bytes are dropped.
class SinkBuf : public std::streambuf {
 public:
  explicit SinkBuf(envelope::ByteSink sink) : sink_(std::move(sink)) {}
  const std::optional<Error>& error() const { return error_; }

 protected:
  std::streamsize xsputn(const char* s, std::streamsize n) override {
    if (error_) return 0;
    auto r = sink_(std::span(reinterpret_cast<const std::uint8_t*>(s), static_cast<std::size_t>(n)));
    if (!r) error_ = r.error();
    return error_ ? 0 : n;
  }
  int_type overflow(int_type c) override {
    if (traits_type::eq_int_type(c, traits_type::eof())) return traits_type::not_eof(c);
    const char ch = traits_type::to_char_type(c);
    return xsputn(&ch, 1) == 1 ? c : traits_type::eof();
  }

 private:
  envelope::ByteSink sink_;
  std::optional<Error> error_;
};

inline envelope::ByteSink FileSink(std::ofstream& out, const std::string& path) {
  return [&out, path](std::span<const std::uint8_t> b) -> Result<void> {
    out.write(reinterpret_cast<const char*>(b.data()), static_cast<std::streamsize>(b.size()));
    if (!out) return Fail(ErrorCode::kInvalidArgument, "cannot write " + path);
    return {};
  };
}

}  // namespace cipherchart::chart::internal
