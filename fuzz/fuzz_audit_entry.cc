// libFuzzer target: the audit-entry codec (include/cipherchart/server/audit_entry.h), on
// arbitrary bytes. Checks (any failure aborts):
//   - DecodeAuditEntry either fails with kInvalidEncoding and a non-empty message, or returns an
//     entry whose encoding is byte-identical to the input (the format is canonical);
//   - the input split into an entry (a time and five strings) either fails to encode with
//     kInvalidArgument (a string that is not UTF-8) or encodes to bytes that decode back to an
//     equal entry (so the round trip is exercised without a seed corpus of valid JSON).
#include <cstddef>
#include <cstdint>
#include <span>
#include <string>

#include "cipherchart/server/audit_entry.h"
#include "fuzz_check.h"

namespace {

using namespace cipherchart;
using namespace cipherchart::server;
using Bytes = std::span<const std::uint8_t>;

// An entry from the input: 8 bytes of time, then five strings separated by 0xff bytes (which
// never occur in UTF-8, so a separator is never part of a valid string).
AuditEntry EntryFrom(Bytes input) {
  AuditEntry e;
  std::uint64_t time = 0;
  const std::size_t time_bytes = input.size() < 8 ? input.size() : 8;
  for (std::size_t i = 0; i < time_bytes; ++i) time = time << 8 | input[i];
  e.time_ms = static_cast<std::int64_t>(time);
  std::string* fields[] = {&e.action, &e.actor, &e.outcome, &e.patient_id, &e.target};
  std::size_t field = 0;
  for (std::size_t i = time_bytes; i < input.size(); ++i) {
    if (input[i] == 0xff && field + 1 < std::size(fields)) {
      ++field;
    } else {
      fields[field]->push_back(static_cast<char>(input[i]));
    }
  }
  return e;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const Bytes input(data, size);

  auto decoded = DecodeAuditEntry(input);
  if (decoded) {
    auto again = EncodeAuditEntry(*decoded);
    FUZZ_CHECK(again.has_value() && fuzz::SameBytes(*again, input), input);
  } else {
    FUZZ_CHECK(decoded.error().code() == ErrorCode::kInvalidEncoding, input);
    FUZZ_CHECK(!decoded.error().message().empty(), input);
  }

  const AuditEntry entry = EntryFrom(input);
  auto encoded = EncodeAuditEntry(entry);
  if (encoded) {
    auto back = DecodeAuditEntry(*encoded);
    FUZZ_CHECK(back.has_value() && *back == entry, input);
  } else {
    FUZZ_CHECK(encoded.error().code() == ErrorCode::kInvalidArgument, input);
    FUZZ_CHECK(!encoded.error().message().empty(), input);
  }
  return 0;
}
