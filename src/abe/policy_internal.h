// Internals shared by the policy parser, the AST helpers and the LSSS compiler (not installed).
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

#include "cipherchart/abe/policy.h"
#include "cipherchart/pairing/field.h"

namespace cipherchart::abe::internal {

// ---- lexical classes (docs/policy.md, "Lexical rules") ----

inline bool IsAsciiAlpha(int c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'); }
inline bool IsAsciiDigit(int c) { return c >= '0' && c <= '9'; }
inline bool IsNameStart(int c) { return IsAsciiAlpha(c) || c == '_'; }
inline bool IsNameChar(int c) { return IsAsciiAlpha(c) || IsAsciiDigit(c) || c == '_' || c == '-'; }
inline bool IsValueChar(int c) { return IsNameChar(c) || c == '.'; }
inline bool IsSpace(int c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r'; }

// "and", "or", "of" in any letter case.
bool IsKeyword(std::string_view word);

// A name part or value as written in canonical text: bare when the bare syntax allows it
// (and it is not a keyword), otherwise quoted with '"' and '\' escaped.
std::string CanonicalPart(std::string_view raw, bool is_value);

// An attribute (or name) parsed on its own: its canonical text and whether it has ":value".
struct ParsedAttribute {
  std::string canonical;
  bool has_value = false;
};
Result<ParsedAttribute> ParseSingleAttribute(std::string_view text);

// ---- dates: days since 1970-01-01 in the proleptic Gregorian calendar ----

bool IsLeapYear(int year);
int DaysInMonth(int year, int month);
// Requires a valid date with year >= 1970.
std::uint64_t DaysFromCivil(int year, int month, int day);
// "YYYY-MM-DD" for days <= kMaxDateDays.
std::string FormatDate(std::uint64_t days);
// 9999-12-31: the last date the four-digit syntax can write.
inline constexpr std::uint64_t kMaxDateDays = 2932896;

// ---- comparisons ----

std::string_view OpText(PolicyNode::Op op);
// No value satisfies it (x < 0, x > 2^32 - 1).
bool ComparisonNeverTrue(PolicyNode::Op op, std::uint64_t value);
// Leaves of the comparison's bit-attribute subtree (0 if never true or value out of range).
std::size_t ComparisonRows(PolicyNode::Op op, std::uint64_t value);
// The bit-attribute subtree (BSW07 section 4.3), or nullptr if never true / out of range.
std::unique_ptr<PolicyNode> ComparisonTree(const std::string& name, PolicyNode::Op op, std::uint64_t value);

// ---- thresholds ----

// Whether a k-of-n gate's Vandermonde block fits kMaxLsssEntry (always for k = 1 or k = n).
bool ThresholdFits(std::uint64_t k, std::uint64_t n);
// The largest k that fits for n items (n >= 1).
std::uint64_t MaxThresholdK(std::uint64_t n);
// The evaluation point of item j (0-based) of a Vandermonde block: 1, -1, 2, -2, 3, ...
inline std::int64_t VandermondePoint(std::size_t j) {
  const auto h = static_cast<std::int64_t>(j / 2 + 1);
  return j % 2 == 0 ? h : -h;
}

// An LSSS matrix entry (a small signed integer) as a scalar mod r.
inline pairing::Fr FrFromInt64(std::int64_t v) {
  if (v >= 0) return pairing::Fr::FromU64(static_cast<std::uint64_t>(v));
  return -pairing::Fr::FromU64(std::uint64_t{0} - static_cast<std::uint64_t>(v));
}

}  // namespace cipherchart::abe::internal
